"""The DX team's pages at a town's size: 52 sections, 104 sheets (two a section), all submitted.

A real uvicorn process on 127.0.0.1 with its own SQLite file and embedded Chroma; each page is
fetched 20 times by a logged-in client (p50/p95). Results go to stdout and benchmarks/out/workspace.json.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
PASSWORD = "bench-password-1"


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


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def main() -> None:
    from coach.app import build_repository, build_sessions
    from coach.settings import Settings
    from coach.workspace.accounts import Accounts
    from tests.servers import free_port, wait_until_up

    data_dir = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    settings = Settings(data_dir=data_dir, load_samples=False)
    sessions = build_sessions(settings)
    org = build_repository(settings, sessions).ensure_organisation(settings.org_name)
    Accounts(sessions).create(org, "dxteam", "佐藤", "dx", PASSWORD)
    port = free_port()
    env = {**os.environ, "COACH_DATA_DIR": str(data_dir), "COACH_LOAD_SAMPLES": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "coach", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/login")
        local = httpx.Client(base_url=base, timeout=60)
        ids = []
        for s in sheets():  # stored as a local program would (coach index marks them submitted)
            ids.append(local.post("/api/v1/sheets", json=s).json()["id"])
        dx = httpx.Client(base_url=base, timeout=60)
        token = re.search(r'name="csrf_token" value="([^"]+)"', dx.get("/login").text).group(1)  # type: ignore[union-attr]
        dx.post("/login", data={"login": "dxteam", "password": PASSWORD, "csrf_token": token})
        local.close()
        # drafts → submitted through the database, as `coach index` and the samples do
        from coach.repository import SheetRepository

        repo = SheetRepository(sessions)
        for sid in ids:
            repo.set_status(sid, org, "submitted")
        book = dx.get("/export/sheets.xlsx").content
        csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', dx.get("/review").text).group(1)  # type: ignore[union-attr]
        pages = {
            "review queue (104 sheets)": lambda: dx.get("/review?state=all"),
            "review page": lambda: dx.get(f"/review/{ids[7]}"),
            "overview (charts + keyword map)": lambda: dx.get("/overview"),
            "export .xlsx": lambda: dx.get("/export/sheets.xlsx"),
            "export summary .csv": lambda: dx.get("/export/summary.csv"),
            "import preview (104 rows)": lambda: dx.post("/import", files={"file": ("a.xlsx", book)},
                                                         headers={"X-CSRF-Token": csrf}),
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
        out = ROOT / "benchmarks" / "out"
        out.mkdir(parents=True, exist_ok=True)
        (out / "workspace.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
