"""Hostile uploads at the 5 MB limit against a real server: memory and everyone else's latency.

A real `coach serve` (uvicorn) on 127.0.0.1 with its own SQLite file; a logged-in DX client posts
each crafted upload to /import while another client fetches a cheap page (/login) in a loop, and
the server's RSS is sampled (psutil) every 10 ms. Reported per upload: the RSS growth over the
RSS just before it, the upload's answer and time, and the other requests' p50/p95 while it was
being parsed. Targets (issue #9): RSS growth < 300 MB, others' p95 < 200 ms. Bounded: every
upload has a 40 s timeout and the whole run stops after BENCH_UPLOAD_SECONDS (default 60 s).
Results go to stdout and benchmarks/out/upload.json; `--check` exits 1 when a target is missed.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from benchmarks.server import (
    ROOT,
    Server,
    create_account,
    ensure_organisation,
    open_database,
    pct,
    serving,
    settings_for,
    write_json,
)

BUDGET = float(os.environ.get("BENCH_UPLOAD_SECONDS", "60"))
EXPANDS_TO_MB = int(os.environ.get("BENCH_UPLOAD_EXPAND_MB", "1000"))  # 1000 MB ≈ 4.6 MB on the wire
RSS_TARGET_MB, P95_TARGET_MS = 300, 200


def uploads() -> dict[str, Callable[[], bytes]]:
    from tests.workspace import crafted

    return {
        f"styles part expanding to {EXPANDS_TO_MB} MB": lambda: crafted.expanding_part("xl/styles.xml", EXPANDS_TO_MB),
        f"sheet part expanding to {EXPANDS_TO_MB} MB": lambda: crafted.expanding_part(crafted.SHEET, EXPANDS_TO_MB),
        "1,000,000-row sheet": crafted.many_rows_sheet,
        "one row of 300,000 cells": lambda: crafted.wide_row_sheet(300_000),
        "20,000 zip members": crafted.too_many_parts,
        "a good 2,000-row workbook (accepted)": lambda: crafted.pack(crafted.good_parts(rows=2000)),
    }


def cached(name: str, build: Callable[[], bytes]) -> bytes:
    """The crafted files take a while to deflate: built once, kept under benchmarks/out/crafted."""
    path = ROOT / "benchmarks" / "out" / "crafted" / (re.sub(r"[^0-9a-z]+", "-", name.lower()) + ".xlsx")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(build())
    return path.read_bytes()


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = self.rss()
        self.running = True

    def rss(self) -> int:
        procs = [self.proc, *self.proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.01)


def one_upload(base: str, dx: httpx.Client, pid: int, name: str, body: bytes, deadline: float) -> dict[str, object]:
    sampler = RssSampler(pid)
    before = sampler.peak
    answer: dict[str, object] = {}

    def post() -> None:
        started = time.perf_counter()
        try:
            r = dx.post("/import", files={"file": ("crafted.xlsx", body)}, timeout=max(1.0, min(40.0, deadline - time.time())))
            answer.update(status=r.status_code)
        except httpx.HTTPError as exc:
            answer.update(status=type(exc).__name__)
        answer["seconds"] = round(time.perf_counter() - started, 2)

    times: list[float] = []
    failed = 0
    with httpx.Client(base_url=base, timeout=40) as other:
        other.get("/login")  # connected before the upload starts
        sampler.start()
        poster = threading.Thread(target=post, daemon=True)
        poster.start()
        while poster.is_alive() and time.time() < deadline:
            t = time.perf_counter()
            try:
                other.get("/login", timeout=max(1.0, deadline - time.time()))
            except httpx.HTTPError:
                failed += 1  # a stall beyond the budget counts with the time it took
            times.append((time.perf_counter() - t) * 1000)
            time.sleep(0.005)
    poster.join(timeout=max(0.0, deadline - time.time()) + 1)
    sampler.running = False
    sampler.join()
    return {"upload_mb": round(len(body) / 1024 / 1024, 2), "answer": answer.get("status", "no answer"),
            "seconds": answer.get("seconds", None), "rss_growth_mb": round((sampler.peak - before) / 1024 / 1024),
            "others": len(times), "others_failed": failed, "others_p50_ms": round(pct(times, 50), 1) if times else None,
            "others_p95_ms": round(pct(times, 95), 1) if times else None}


def measure(server: Server, bodies: dict[str, bytes], results: dict[str, dict[str, object]]) -> float:
    """Each upload in turn, after the quiet figure; returns when the uploads' budget started."""
    from tests.workspace import crafted

    dx = server.login("dxteam", timeout=40)
    dx.post("/import", files={"file": ("warm.xlsx", crafted.pack(crafted.good_parts(rows=5)))})  # warm-up
    with server.client(timeout=40) as idle:  # the same page with no upload running
        quiet = []
        for _ in range(20):
            t = time.perf_counter()
            idle.get("/login")
            quiet.append((time.perf_counter() - t) * 1000)
    results["(no upload: /login alone)"] = {"others_p50_ms": round(pct(quiet, 50), 1),
                                             "others_p95_ms": round(pct(quiet, 95), 1)}
    print(f"no upload running: /login p50 {pct(quiet, 50):.1f} ms  p95 {pct(quiet, 95):.1f} ms")
    started = time.time()  # the budget covers the uploads, not the server's start
    deadline = started + BUDGET
    for name, body in bodies.items():
        if time.time() > deadline - 1:
            results[name] = {"answer": "skipped (time budget)"}
            continue
        results[name] = one_upload(server.base, dx, server.process.pid, name, body, deadline)
        r = results[name]
        print(f"{name:<34} {r['upload_mb']:>5} MB → {r['answer']!s:>4} in {r['seconds']!s:>6} s   "
              f"RSS +{r['rss_growth_mb']:>5} MB   others p50 {r['others_p50_ms']!s:>7} ms  "
              f"p95 {r['others_p95_ms']!s:>7} ms  ({r['others']} requests while it ran)")
    return started


def main() -> int:
    only = [w for w in os.environ.get("BENCH_UPLOAD_CASES", "").split(",") if w]  # e.g. "rows,members"
    bodies = {name: cached(name, build) for name, build in uploads().items() if not only or any(w in name for w in only)}
    settings = settings_for(Path(tempfile.mkdtemp(prefix="bench-upload-")))
    sessions = open_database(settings)
    create_account(sessions, ensure_organisation(sessions, settings.org_name), "dxteam", "dx")
    results: dict[str, dict[str, object]] = {}
    with serving(settings) as server:  # a server stuck in a parse is killed on the way out
        started = measure(server, bodies, results)
    write_json("upload.json", results)
    measured = [r for r in results.values() if "rss_growth_mb" in r]
    worst_rss = max((int(r["rss_growth_mb"]) for r in measured), default=0)  # type: ignore[call-overload]
    worst_p95 = max((float(r["others_p95_ms"]) for r in measured if r["others_p95_ms"] is not None),  # type: ignore[arg-type]
                    default=0.0)
    ok = worst_rss < RSS_TARGET_MB and worst_p95 < P95_TARGET_MS and len(measured) == len(bodies)
    print(f"worst RSS growth {worst_rss} MB (target < {RSS_TARGET_MB}), worst others' p95 {worst_p95} ms "
          f"(target < {P95_TARGET_MS}), {time.time() - started:.0f} s in all: {'OK' if ok else 'MISSED'}")
    return 0 if ok or "--check" not in sys.argv else 1


if __name__ == "__main__":
    sys.exit(main())
