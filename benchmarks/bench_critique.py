"""Critique latency per sheet, in-process and over HTTP (p50/p95), for 200/800/4,000-character sheets.

Every request carries different text (a counter is woven into each field), so the tokenizer's
cache cannot flatter the figures. The HTTP server is a real uvicorn process on 127.0.0.1.
Results go to stdout and benchmarks/out/critique.json.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from coach.service import CritiqueService
from coach.sheet import TEXT_FIELDS, Sheet

ROOT = Path(__file__).resolve().parents[1]
SIZES = (200, 800, 4000)
RUNS = int(os.environ.get("BENCH_RUNS", "300"))
WARMUP = 30


def _base_sheets() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (ROOT / "evals" / "devset.jsonl").read_text("utf-8").splitlines()]
    return [r["sheet"] for r in rows if len(r["sheet"]["asis"]) > 60]


def _length(sheet: dict[str, Any]) -> int:
    return sum(len(sheet[k]) for k in TEXT_FIELDS) + sum(len(x) for x in sheet["problems"] + sheet["tasks"])


def sheet_of(size: int, n: int) -> dict[str, Any]:
    """A realistic sheet of about `size` characters, unique for each n."""
    bases = _base_sheets()
    out: dict[str, Any] = {"section": "住民窓口係", "title": f"計測{n}", "asis": "", "tobe": "", "purpose": "",
                           "problems": [], "tasks": [], "margin": ""}
    i = n
    while _length(out) < size:
        b = bases[i % len(bases)]
        i += 1
        for k in TEXT_FIELDS:
            out[k] = (out[k] + f"（{n}）" + b[k])[:3900]
        out["problems"] = (out["problems"] + b["problems"])[:20]
        out["tasks"] = (out["tasks"] + b["tasks"])[:20]
    # trim to the target length, field by field
    while _length(out) > size and len(out["asis"]) > 20:
        out["asis"] = out["asis"][:-10]
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def in_process() -> dict[int, dict[str, float]]:
    service = CritiqueService()
    results = {}
    for size in SIZES:
        for n in range(WARMUP):
            service.critique(Sheet.model_validate(sheet_of(size, 10_000 + n)))
        times = []
        for n in range(RUNS):
            sheet = Sheet.model_validate(sheet_of(size, n))
            start = time.perf_counter()
            service.critique(sheet)
            times.append((time.perf_counter() - start) * 1000)
        results[size] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95), "mean_ms": statistics.mean(times)}
    return results


def over_http() -> dict[int, dict[str, float]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.mkdtemp(prefix="coach-bench-")
    env = {**os.environ, "COACH_DATA_DIR": data, "COACH_LOAD_SAMPLES": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "web.app:create_app", "--factory", "--port", str(port),
         "--log-level", "warning"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    results = {}
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(100):
                try:
                    client.get("/docs")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            for size in SIZES:
                for n in range(WARMUP):
                    client.post("/api/v1/critique", json=sheet_of(size, 20_000 + n)).raise_for_status()
                times = []
                for n in range(RUNS):
                    body = sheet_of(size, 30_000 + n)
                    start = time.perf_counter()
                    client.post("/api/v1/critique", json=body).raise_for_status()
                    times.append((time.perf_counter() - start) * 1000)
                results[size] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95), "mean_ms": statistics.mean(times)}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return results


def main() -> None:
    report: dict[str, Any] = {"runs": RUNS, "in_process": in_process(), "http": over_http()}
    print(f"critique latency, {RUNS} different sheets per size (ms)")
    print("| sheet | in-process p50 | in-process p95 | HTTP p50 | HTTP p95 |")
    print("|---|---|---|---|---|")
    for size in SIZES:
        a, b = report["in_process"][size], report["http"][size]
        print(f"| {size:,} chars | {a['p50_ms']:.1f} | {a['p95_ms']:.1f} | {b['p50_ms']:.1f} | {b['p95_ms']:.1f} |")
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "critique.json").write_text(json.dumps(report, indent=2), "utf-8")


if __name__ == "__main__":
    main()
