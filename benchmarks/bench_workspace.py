"""The DX team's pages at a town's size: 52 sections, 104 sheets (two a section), all submitted.

A real uvicorn process on 127.0.0.1 with its own SQLite file and embedded Chroma; each page is
fetched 20 times by a logged-in client (p50/p95). Results go to stdout and benchmarks/out/workspace.json.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.server import (
    ROOT,
    create_account,
    ensure_organisation,
    open_database,
    pct,
    serving,
    settings_for,
    write_json,
)

RUNS = int(os.environ.get("BENCH_RUNS", "20"))


def sheets() -> list[dict[str, Any]]:
    rows = []
    for name in ("devset.jsonl", "holdout.jsonl"):
        rows += [json.loads(line)["sheet"] for line in (ROOT / "evals" / name).read_text("utf-8").splitlines()]
    out = []
    for i in range(104):
        s = dict(rows[i % len(rows)])
        s["section"] = f"第{i // 2 + 1:02d}係"
        out.append(s)
    return out


def main() -> None:
    settings = settings_for(Path(tempfile.mkdtemp(prefix="bench-ws-")))
    sessions = open_database(settings)
    org = ensure_organisation(sessions, settings.org_name)
    create_account(sessions, org, "dxteam", "dx")
    with serving(settings) as server:
        base = server.base
        local = httpx.Client(base_url=base, timeout=60)
        ids = []
        for s in sheets():  # stored as a local program would (coach index marks them submitted)
            ids.append(local.post("/api/v1/sheets", json=s).json()["id"])
        dx = server.login("dxteam")
        local.close()
        # drafts → submitted through the database, as `coach index` and the samples do
        from coach.repository import SheetRepository
        from coach.status import SheetStatus

        repo = SheetRepository(sessions)
        for sid in ids:
            repo.set_status(sid, org, SheetStatus.SUBMITTED)
        book = dx.get("/export/sheets.xlsx").content
        pages = {
            "review queue (104 sheets)": lambda: dx.get("/review?state=all"),
            "review page": lambda: dx.get(f"/review/{ids[7]}"),
            "overview (charts + keyword map)": lambda: dx.get("/overview"),
            "export .xlsx": lambda: dx.get("/export/sheets.xlsx"),
            "export summary .csv": lambda: dx.get("/export/summary.csv"),
            "import preview (104 rows)": lambda: dx.post("/import", files={"file": ("a.xlsx", book)}),
        }
        results: dict[str, dict[str, float]] = {}
        for name, fetch in pages.items():
            fetch().raise_for_status()  # warm-up
            times = []
            for _ in range(RUNS):
                t = time.perf_counter()
                fetch().raise_for_status()
                times.append((time.perf_counter() - t) * 1000)
            results[name] = {"p50_ms": round(pct(times, 50), 1), "p95_ms": round(pct(times, 95), 1)}
            print(f"{name:<34} p50 {results[name]['p50_ms']:>7.1f} ms   p95 {results[name]['p95_ms']:>7.1f} ms")
        write_json("workspace.json", results)


if __name__ == "__main__":
    main()
