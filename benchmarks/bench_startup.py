"""How long `coach <command> --help` takes to start, in fresh processes (issue #10: under 1 s).

Each command's `--help` is run REPEAT times (default 7) as a real process; reported: the p50 and the
fastest wall time, and the modules the CLI's parser loaded (`python -X importtime`, the ten slowest
cumulative imports of one run). On a loaded machine the fastest run is the fairest figure.
Bounded: REPEAT runs per command, 60 s timeout each. `--check` exits 1 when the p50 of
`create-admin --help` is 1 s or more. Results go to stdout and benchmarks/out/startup.json.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEAT = int(os.environ.get("BENCH_STARTUP_REPEAT", "7"))
COMMANDS = (("create-admin", "--help"), ("db", "--help"), ("critique", "--help"), ("--version",))
TARGET_S = 1.0


def coach() -> list[str]:
    found = shutil.which("coach", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "coach"]


def wall_times(args: tuple[str, ...]) -> list[float]:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        subprocess.run([*coach(), *args], capture_output=True, check=True, timeout=60, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def slowest_imports(args: tuple[str, ...], n: int = 10) -> list[tuple[str, float]]:
    """The n slowest cumulative imports of one `--help` run (the script's own imports and theirs)."""
    probe = ("import sys; from coach.cli import main; sys.argv = ['coach', *sys.argv[1:]]\n"
             "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", probe, *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # importtime indents two spaces a level
        if depth <= 1:
            rows.append((name.strip(), int(cumulative) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:n]


def main() -> int:
    results = {}
    for args in COMMANDS:
        times = wall_times(args)
        results[" ".join(args)] = {"p50_s": round(statistics.median(times), 3), "min_s": round(min(times), 3)}
    print(f"{'command':<22} {'p50 s':>7} {'min s':>7}")
    for name, r in results.items():
        print(f"{name:<22} {r['p50_s']:>7.3f} {r['min_s']:>7.3f}")
    imports = slowest_imports(("create-admin", "--help"))
    print("\nslowest imports of `coach create-admin --help` (cumulative s):")
    for name, seconds in imports:
        print(f"  {name:<40} {seconds:.3f}")
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "startup.json").write_text(json.dumps({"commands": results, "imports": imports}, indent=2), "utf-8")
    if "--check" in sys.argv and results["create-admin --help"]["p50_s"] >= TARGET_S:
        print(f"FAILED: create-admin --help p50 >= {TARGET_S} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
