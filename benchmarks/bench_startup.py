"""How long `coach create-admin --help` takes to start (issue #10: under 1 s): p50 of 5 runs of the
installed `coach` command in a subprocess. Results: stdout and benchmarks/out/startup.json."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.server import ROOT, load_average, pct, write_json

RUNS = 5


def command() -> list[str]:
    script = Path(sys.executable).with_name("coach")
    found = str(script) if script.exists() else shutil.which("coach")
    return [found] if found else [sys.executable, "-m", "coach"]


def main(runs: int = RUNS) -> dict[str, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([*command(), "create-admin", "--help"], check=True, capture_output=True, cwd=ROOT, timeout=120)
        times.append(time.perf_counter() - t)
    result = {"p50_s": round(pct(times, 50), 2), "max_s": round(max(times), 2), "runs": runs}
    print(f"coach create-admin --help: p50 {result['p50_s']} s, max {result['max_s']} s over {runs} runs "
          f"(load average {load_average()})")
    write_json("startup.json", result)
    return result


if __name__ == "__main__":
    main()
