"""Issue #13 item 6: the scaled-out topology, run as processes (containers may not run here).

PostgreSQL, one `chroma run` server and two `coach serve` processes on two ports, each with its own
data folder (so nothing can be shared through local files). A person logs in on one process and goes
on on the other; staff create, save and submit, the DX team reviews, and the login throttle, the
sessions and the similar-sheet index behave as one service whichever process answers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import sheet_data
from tests.servers import free_port, wait_until_up

DEADLINE = 60.0  # seconds to wait for a condition that another process brings about


@dataclass
class Service:
    a: str
    b: str
    passwords: dict[str, str]


def _start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "coach", "serve", "--port", str(port)], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/healthz", tries=600)
    return proc, base


@pytest.fixture(scope="module")
def service(postgres_url: str, chroma_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Started once for this module (each test uses its own accounts)."""
    tmp_path = tmp_path_factory.mktemp("topology")
    env = {**os.environ, "COACH_DATABASE_URL": postgres_url, "COACH_CHROMA_URL": chroma_server,
           "COACH_LOAD_SAMPLES": "0", "COACH_ORG_NAME": "二つの窓口町"}
    env.pop("COACH_LLM_MODEL", None)
    subprocess.run([sys.executable, "-m", "coach", "db", "upgrade"], env={**env, "COACH_DATA_DIR": str(tmp_path)},
                   check=True, capture_output=True)
    demo = subprocess.run([sys.executable, "-m", "coach", "demo"], env={**env, "COACH_DATA_DIR": str(tmp_path)},
                          check=True, capture_output=True, text=True).stdout
    passwords = dict(re.findall(r"ログインID (\S+)\s+パスワード (\S+)", demo))
    procs = []
    try:
        for name in ("a", "b"):
            folder = tmp_path / name
            folder.mkdir()
            procs.append(_start({**env, "COACH_DATA_DIR": str(folder)}, tmp_path / f"{name}.log"))
        yield Service(procs[0][1], procs[1][1], passwords)
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(timeout=20)
    for name in ("a", "b"):
        text = (tmp_path / f"{name}.log").read_text(errors="replace")
        assert "Traceback" not in text, text[-3000:]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'"X-CSRF-Token":\s*"([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _login(base: str, login: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30)
    token = _csrf(c.get("/login").text)
    r = c.post("/login", data={"login": login, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.text[:500]
    return c


def _on(c: httpx.Client, base: str) -> httpx.Client:
    """The same browser (its cookies), now sent to the other process."""
    other = httpx.Client(base_url=base, timeout=30, cookies=c.cookies)
    return other


def _editor_form(html: str, op: str = "save", **changes: object) -> dict[str, str | list[str]]:
    """The editor's form as a browser posts it (the section comes from the account)."""
    form: dict[str, str | list[str]] = dict(sheet_data(**changes))
    section = re.search(r'name="section"[^>]*value="([^"]*)"', html)
    form.update(csrf_token=_csrf(html), op=op, section=section.group(1) if section else "")
    base = re.search(r'name="base_version" value="(\d+)"', html)
    if base:
        form["base_version"] = base.group(1)
    return form


def _wait(condition: object, what: str) -> None:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {DEADLINE:.0f} s: {what}")


def test_two_processes_behave_as_one_service(service: Service) -> None:
    staff_a = _login(service.a, "madoguchi", service.passwords["madoguchi"])
    staff_b = _on(staff_a, service.b)
    # The session made by A is known to B.
    assert "ログアウト" in staff_b.get("/").text

    # Create on B, save on A, submit on B.
    page = staff_b.get("/")
    r = staff_b.post("/sheets", data={"title": "転入届の受付を二つの窓口で", "csrf_token": _csrf(page.text)})
    assert r.status_code == 303, r.text[:500]
    sheet_path = r.headers["location"]
    sheet_id = int(sheet_path.rstrip("/").split("/")[-1])
    editor = staff_a.get(sheet_path)
    asis = "転入届の窓口で住民が平均40分待っている。記入例が窓口にしかなく書き直しが多い。"
    r = staff_a.post(sheet_path, data=_editor_form(editor.text, asis=asis, title="転入届の受付を二つの窓口で"))
    assert r.status_code == 303, r.text[:500]
    editor = staff_b.get(sheet_path)
    assert "平均40分待っている" in editor.text  # B reads what A saved
    r = staff_b.post(sheet_path, data=_editor_form(editor.text, "submit", asis=asis, title="転入届の受付を二つの窓口で"))
    assert r.status_code == 303, r.text[:500]

    # The DX team logs in on B and reviews on A; the staff see the decision on either.
    dx_b = _login(service.b, "dxteam", service.passwords["dxteam"])
    dx_a = _on(dx_b, service.a)
    assert "転入届の受付を二つの窓口で" in dx_a.get("/review").text
    review = dx_a.get(f"/review/{sheet_id}")
    assert review.status_code == 200
    r = dx_a.post(f"/review/{sheet_id}/decision", data={"decision": "accept", "note": "",
                                                        "csrf_token": _csrf(review.text)})
    assert r.status_code == 303, r.text[:500]
    assert "受理" in dx_b.get(f"/review/{sheet_id}").text

    # The similar-sheet index is one: a sheet saved through A is found by a query on B.
    def found_on_b() -> bool:
        r = httpx.post(service.b + "/api/v1/sheets", json=sheet_data(asis=asis, title="問い合わせ"), timeout=30)
        hits = httpx.get(f"{service.b}/api/v1/sheets/{r.json()['id']}/similar?k=5", timeout=30).json()
        return sheet_id in {h["id"] for h in hits}

    _wait(found_on_b, "the sheet saved on A is in the index B queries")


def test_the_login_throttle_counts_attempts_on_both_processes(service: Service) -> None:
    outcomes = []
    for n in range(7):  # wrong passwords, alternating between the processes
        base = service.a if n % 2 == 0 else service.b
        c = httpx.Client(base_url=base, timeout=30)
        r = c.post("/login", data={"login": "doboku", "password": "違うパスワード",
                                   "csrf_token": _csrf(c.get("/login").text)})
        outcomes.append(r.status_code)
    assert outcomes[:5] == [401] * 5
    assert outcomes[5:] == [429, 429]  # five per login ID in all, whichever process counted them
    # The right password is refused too while the ID is held (on both processes).
    for base in (service.a, service.b):
        c = httpx.Client(base_url=base, timeout=30)
        r = c.post("/login", data={"login": "doboku", "password": service.passwords["doboku"],
                                   "csrf_token": _csrf(c.get("/login").text)})
        assert r.status_code == 429


def test_logging_out_on_one_process_ends_the_session_on_the_other(service: Service) -> None:
    a = _login(service.a, "madoguchi", service.passwords["madoguchi"])  # a second session of this person
    b = _on(a, service.b)
    assert "ログアウト" in b.get("/").text
    r = a.post("/logout", data={"csrf_token": _csrf(a.get("/").text)})
    assert r.status_code in (303, 200)
    r = b.get("/", follow_redirects=False)
    assert r.status_code in (303, 401) and "ログアウト" not in r.text
