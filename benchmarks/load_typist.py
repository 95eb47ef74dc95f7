"""One simulated typist of the load bench: a logged-in staff client sending the editor's requests,
recording each request's time and status, and what the server acknowledged as saved."""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.server import Server

# The request kinds, named for what the editor asks. On this commit one request (POST /check)
# critiques and autosaves; a split into two requests would add a kind here.
KINDS = ("critique+autosave (POST /check)", "similar refresh (POST /similar)", "explicit save (POST, 303)",
         "editor page (GET)")
CHECK, SIMILAR, SAVE, EDITOR = KINDS
TEXT_FIELDS = ("asis", "tobe", "purpose")
LIST_FIELDS = ("problems", "tasks")
CHARS_PER_PAUSE = 25  # what a person types between two pauses
EXPECTED = {CHECK: {200, 204, 409}, SIMILAR: {200}, SAVE: {303, 409}, EDITOR: {200}}
BASE = re.compile(r'id="base-version" name="base_version" value="(\d+)"')


@dataclass(frozen=True)
class Sample:
    kind: str
    ms: float
    status: int | str
    ok: bool


class Budget:
    """Shared by every typist of a run: a request count and a deadline."""

    def __init__(self, max_requests: int, deadline: float) -> None:
        self.left, self.deadline = max_requests, deadline
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.left <= 0 or time.monotonic() >= self.deadline:
                return False
            self.left -= 1
            return True

    def sleep(self, seconds: float) -> bool:
        """Think for `seconds`, or until the deadline; False when the deadline came first."""
        remaining = self.deadline - time.monotonic()
        time.sleep(max(0.0, min(seconds, remaining)))
        return seconds < remaining


def content(values: dict[str, Any]) -> dict[str, Any]:
    """What the repository keeps of a form: stripped texts, no blank list rows."""
    out: dict[str, Any] = {k: str(values.get(k, "")).strip() for k in ("title", *TEXT_FIELDS, "margin")}
    for k in LIST_FIELDS:
        out[k] = [v.strip() for v in values.get(k, []) if v.strip()]
    return out


@dataclass
class Typist:
    client: httpx.Client
    sheet_id: int
    section: str
    source: dict[str, Any]
    base: int
    rng: random.Random
    save_every: int
    step: int = 0
    samples: list[Sample] = field(default_factory=list)
    acked: dict[str, Any] = field(default_factory=dict)  # the last content the server said it saved
    unsure: list[dict[str, Any]] = field(default_factory=list)  # sent after it, answer unknown or failed

    @classmethod
    def start(cls, server: Server, login: str, source: dict[str, Any], seed: int,
              save_every: int | None = None) -> Typist:
        """Log in, create the typist's sheet as the list page's form does, open the editor."""
        client = server.login(login, timeout=60)
        section = f"入力{login.removeprefix('typist')}係"
        title = str(source.get("title") or "業務")[:90]
        r = client.post("/sheets", data={"title": title})
        assert r.status_code == 303, f"creating {login}'s sheet: {r.status_code}"
        sheet_id = int(r.headers["location"].rstrip("/").split("/")[-1])
        page = client.get(f"/sheets/{sheet_id}")
        base = BASE.search(page.text)
        assert base, "no base version on the editor page"
        typist = cls(client, sheet_id, section, {**source, "title": title}, int(base.group(1)),
                     random.Random(seed), save_every=save_every or 8 + seed % 5)
        typist.acked = content(typist.form())
        return typist

    def form(self) -> dict[str, Any]:
        """The form as typed so far: the source sheet revealed CHARS_PER_PAUSE characters a pause,
        then small revisions in the margin so every pause still changes something."""
        left = self.step * CHARS_PER_PAUSE
        values: dict[str, Any] = {"section": self.section, "title": self.source["title"]}
        for k in (*TEXT_FIELDS, *LIST_FIELDS):
            full = self.source.get(k) or ([] if k in LIST_FIELDS else "")
            if isinstance(full, list):
                rows = []
                for row in full:
                    rows.append(row[:left])
                    left = max(0, left - len(row))
                values[k] = [r for r in rows if r] or [""]  # the editor always sends one empty row
            else:
                values[k] = full[:left]
                left = max(0, left - len(full))
        values["margin"] = f"見直し{self.step}回目" if left > 0 else ""
        return {**values, "base_version": str(self.base)}

    def request(self, kind: str) -> float:
        """Send one request of `kind`; returns its time in ms (recorded with its status)."""
        if kind == CHECK:
            self.step += 1
        values = self.form()
        headers = {"HX-Request": "true"} if kind in (CHECK, SIMILAR) else {}
        started = time.perf_counter()
        try:
            if kind == EDITOR:
                r = self.client.get(f"/sheets/{self.sheet_id}")
            else:
                path = {CHECK: "/check", SIMILAR: "/similar", SAVE: ""}[kind]
                data = {**values, "op": "save"} if kind == SAVE else values
                r = self.client.post(f"/sheets/{self.sheet_id}{path}", data=data, headers=headers)
            status: int | str = r.status_code
        except httpx.HTTPError as exc:
            r, status = None, type(exc).__name__
        ms = (time.perf_counter() - started) * 1000
        ok = status in EXPECTED[kind] and self._after(kind, r, values)
        self.samples.append(Sample(kind, ms, status if ok or r is None else f"{status} (not saved)", ok))
        return ms

    def _after(self, kind: str, r: httpx.Response | None, values: dict[str, Any]) -> bool:
        """Follow the answer as the page would; False when a 2xx/3xx still did not do its work."""
        sent = content(values)
        if kind in (CHECK, SAVE) and (r is None or r.status_code not in (200, 204, 303)):
            self.unsure.append(sent)  # may or may not have been written
            return r is not None and r.status_code == 409  # someone else's save: expected, reload below
        if kind == CHECK and r is not None and r.status_code == 200:
            base = BASE.search(r.text)
            if base is None:  # 200 with 「自動保存できませんでした」
                self.unsure.append(sent)
                return False
            self.base, self.acked, self.unsure = int(base.group(1)), sent, []
        elif kind == SAVE and r is not None and r.status_code == 303:
            # a save with nothing visible changed writes no version and says which one stays (?unchanged=N)
            saved = re.search(r"(?:saved|unchanged)=(\d+)", r.headers.get("location", ""))
            if saved is None:
                return False
            self.base, self.acked, self.unsure = int(saved.group(1)), sent, []
        elif kind == EDITOR and r is not None:
            base = BASE.search(r.text)
            if base is not None:
                self.base = int(base.group(1))
        return True

    def type_until(self, budget: Budget) -> None:
        pauses = 0
        while budget.take():
            think = self.rng.uniform(0.5, 1.5)
            if not budget.sleep(think):
                return
            self.request(CHECK)
            if think > 1.2 and budget.take():  # htmx: `input from:#sheet-form delay:1200ms`
                self.request(SIMILAR)
            pauses += 1
            if pauses % self.save_every == 0 and budget.take():
                self.request(SAVE)
                if budget.take():  # the browser follows the 303 to the editor
                    self.request(EDITOR)


def missing_saves(server: Server, typists: list[Typist]) -> list[str]:
    """Every typist's sheet read back: its latest version must be the last acknowledged content
    (or something sent after it whose answer was lost). Returns what is missing."""
    missing = []
    with server.client() as api:
        for t in typists:
            r = api.get(f"/api/v1/sheets/{t.sheet_id}")
            if r.status_code != 200:
                missing.append(f"sheet {t.sheet_id}: GET {r.status_code}")
                continue
            stored = content(r.json())
            if stored != t.acked and stored not in t.unsure:
                missing.append(f"sheet {t.sheet_id}: stored step differs from the last acknowledged")
    return missing
