"""N simulated typists against one real `coach serve` on 127.0.0.1 (issue #10's load bench).

Each typist is a staff account of its own section with one sheet of its own, logged in through the
login form, and sends exactly what the editor's htmx sends (web/templates/_sheet_form.html,
_similar.html): after each typing pause (think time 0.5–1.5 s) the whole form to
POST /sheets/{id}/check — on this commit one request both critiques and autosaves; when the pause
is longer than 1.2 s also POST /sheets/{id}/similar (htmx's `delay:1200ms`), so about every third
pause; and every ~10 pauses an explicit save (POST /sheets/{id}, op=save, 303) followed by the
editor page it redirects to. The text grows pause by pause from a real sheet of the eval sets.

Before the load, the same server answers each kind alone (idle, one client) to give the single
request p95 the loaded p95 is compared with. After it, every sheet is read back through the API:
the latest version must equal the last text whose save or autosave was acknowledged (no
acknowledged save missing). Bounded by --seconds and --max-requests per configuration.

Configurations: sqlite-1 (embedded SQLite, one worker), postgres-N (PostgreSQL from --postgres or
COACH_TEST_POSTGRES_URL, N workers via `coach serve --workers N`; reported as not available when
this commit's server has no --workers). Results: a markdown table on stdout, benchmarks/out/load.json.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.load_typist import KINDS, Budget, Typist, missing_saves
from benchmarks.server import (
    chroma_serving,
    create_account,
    empty_postgres,
    ensure_organisation,
    eval_sheets,
    load_average,
    open_database,
    pct,
    serving,
    settings_for,
    supports_workers,
    write_json,
)

DEFAULT_CONFIGS = ("sqlite-1", "postgres-2", "postgres-4")
IDLE_RUNS = 20
OTHER_SECTIONS = 30  # submitted sheets of other sections, for the similar-sheets panel


@dataclass
class Outcome:
    config: str
    typists: int
    available: bool = True
    reason: str = ""
    seconds: float = 0.0
    requests: int = 0
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    load_average: str = ""
    server_cpu_ms: float | None = None  # the server's processes' CPU time over the load, per request served
    client_cpu_ms: float | None = None  # this process's (the simulated typists'), per request

    @property
    def errors(self) -> int:
        return sum(int(k["errors"]) for k in self.kinds.values())


def _parse_config(name: str) -> tuple[str, int]:
    backend, _, workers = name.partition("-")
    if backend not in ("sqlite", "postgres") or not workers.isdigit() or int(workers) < 1:
        raise SystemExit(f"unknown configuration {name!r} (e.g. sqlite-1, postgres-2)")
    return backend, int(workers)


def _seed(sessions: Any, org: int, typists: int) -> None:
    """Accounts for the typists (+1 for the idle figures) and other sections' submitted sheets."""
    from coach.repository import SheetRepository
    from coach.sheet import Sheet
    from coach.status import SheetStatus

    for i in range(typists + 1):
        create_account(sessions, org, f"typist{i:03d}", "staff", section=f"入力{i:03d}係")
    repo, rows = SheetRepository(sessions), eval_sheets()
    for i in range(OTHER_SECTIONS):
        row = {**rows[(i * 7) % len(rows)], "section": f"既存{i:02d}係"}
        repo.create(org, Sheet.model_validate(row), status=SheetStatus.SUBMITTED)


def cpu_seconds(pid: int, children: bool = True) -> float:
    """User + system CPU time of a process (and its children: `coach serve --workers` forks them)."""
    import psutil

    procs = [psutil.Process(pid)]
    if children:
        procs += procs[0].children(recursive=True)
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:  # a worker that ended meanwhile
            pass
    return total


def _idle(typist: Typist, runs: int) -> dict[str, list[float]]:
    """Each kind alone on the idle server, one client, no think time."""
    for kind in KINDS:  # warm-up: templates, the critic's dictionaries, the index
        typist.request(kind)
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    for _ in range(runs):
        for kind in KINDS:
            times[kind].append(typist.request(kind))
    return times


def run_config(name: str, typists: int, seconds: float, max_requests: int, postgres: str | None,
               workers_ok: bool, idle_runs: int = IDLE_RUNS, save_every: int | None = None) -> Outcome:
    backend, workers = _parse_config(name)
    out = Outcome(name, typists)
    if backend == "postgres" and not postgres:
        out.available, out.reason = False, "no PostgreSQL URL (--postgres or COACH_TEST_POSTGRES_URL)"
        return out
    if workers > 1 and not workers_ok:
        out.available, out.reason = False, "not available on this commit (`coach serve` has no --workers)"
        return out
    if backend == "postgres" and postgres:
        empty_postgres(postgres)
    settings = settings_for(Path(tempfile.mkdtemp(prefix="bench-load-")), postgres if backend == "postgres" else None)
    sessions = open_database(settings)
    _seed(sessions, ensure_organisation(sessions, settings.org_name), typists)
    sessions.kw["bind"].dispose()
    sources = eval_sheets()
    with ExitStack() as stack:
        chroma = stack.enter_context(chroma_serving(settings.data_dir / "chroma-server")) if workers > 1 else None
        server = stack.enter_context(serving(settings, workers=workers, chroma_url=chroma))
        idle = _idle(Typist.start(server, "typist000", sources[0], seed=0), idle_runs)
        crowd = [Typist.start(server, f"typist{i:03d}", sources[(i * 13) % len(sources)], seed=i,
                              save_every=save_every) for i in range(1, typists + 1)]
        budget = Budget(max_requests, time.monotonic() + seconds)
        server_cpu, client_cpu = cpu_seconds(server.process.pid), cpu_seconds(os.getpid(), children=False)
        started = time.monotonic()
        threads = [threading.Thread(target=t.type_until, args=(budget,), daemon=True) for t in crowd]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 120)
        out.seconds = round(time.monotonic() - started, 1)
        server_cpu = cpu_seconds(server.process.pid) - server_cpu
        client_cpu = cpu_seconds(os.getpid(), children=False) - client_cpu
        out.load_average = load_average()
        out.missing = missing_saves(server, crowd)
        for t in crowd:
            t.client.close()
    out.requests = sum(len(t.samples) for t in crowd)
    if out.requests:
        out.server_cpu_ms = round(1000 * server_cpu / out.requests, 1)
        out.client_cpu_ms = round(1000 * client_cpu / out.requests, 1)
    for kind in KINDS:
        loaded = [s for t in crowd for s in t.samples if s.kind == kind]
        ms = [s.ms for s in loaded]
        idle_p95 = pct(idle[kind], 95)
        out.kinds[kind] = {"count": len(loaded), "errors": sum(not s.ok for s in loaded),
                           "expected_409": sum(s.status == 409 for s in loaded),
                           "p50_ms": round(pct(ms, 50), 1), "p95_ms": round(pct(ms, 95), 1),
                           "idle_p95_ms": round(idle_p95, 1),
                           "ratio": round(pct(ms, 95) / idle_p95, 1) if ms and idle_p95 else None,
                           "error_kinds": sorted({s.status for s in loaded if not s.ok}, key=str)}
    return out


def table(outcomes: list[Outcome]) -> str:
    lines = ["| configuration | typists | request | count | errors | p50 ms | p95 ms | idle p95 ms | p95 ÷ idle |",
             "|---|---|---|---|---|---|---|---|---|"]
    for o in outcomes:
        if not o.available:
            lines.append(f"| {o.config} | {o.typists} | {o.reason} | | | | | | |")
            continue
        for kind, k in o.kinds.items():
            lines.append(f"| {o.config} | {o.typists} | {kind} | {k['count']} | {k['errors']} | {k['p50_ms']} | "
                         f"{k['p95_ms']} | {k['idle_p95_ms']} | {k['ratio']} |")
    return "\n".join(lines)


def summary(o: Outcome) -> str:
    if not o.available:
        return f"{o.config} × {o.typists}: {o.reason}"
    rate = o.requests / o.seconds if o.seconds else 0.0
    saves = "none missing" if not o.missing else f"{len(o.missing)} MISSING: {'; '.join(o.missing[:5])}"
    return (f"{o.config} × {o.typists} typists: {o.requests} requests in {o.seconds} s ({rate:.1f}/s), "
            f"{o.errors} errors, acknowledged saves: {saves}, load average {o.load_average}, "
            f"CPU per request: server {o.server_cpu_ms} ms, clients {o.client_cpu_ms} ms")


def main(argv: list[str] | None = None) -> list[Outcome]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--typists", default="20,50", help="comma-separated, e.g. 20,50")
    p.add_argument("--seconds", type=float, default=30.0, help="load time per configuration")
    p.add_argument("--max-requests", type=int, default=50_000, help="request budget per configuration")
    p.add_argument("--config", default=",".join(DEFAULT_CONFIGS), help="e.g. sqlite-1,postgres-2,postgres-4")
    p.add_argument("--postgres", default=os.environ.get("COACH_TEST_POSTGRES_URL"), help="PostgreSQL URL (emptied!)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 3 typists, 5 s, sqlite-1, 3 idle runs, a save after every pause")
    p.add_argument("--out", default="load.json", help="file name under benchmarks/out")
    args = p.parse_args(argv)
    idle_runs, save_every = IDLE_RUNS, None
    if args.quick:
        args.typists, args.seconds, args.max_requests, args.config = "3", 5.0, 200, "sqlite-1"
        idle_runs, save_every = 3, 1
    configs = [c.strip() for c in args.config.split(",") if c.strip()]
    workers_ok = any(_parse_config(c)[1] > 1 for c in configs) and supports_workers()
    outcomes = []
    for config in configs:
        for n in (int(x) for x in args.typists.split(",")):
            o = run_config(config, n, args.seconds, args.max_requests, args.postgres, workers_ok, idle_runs, save_every)
            print(summary(o), flush=True)
            if o.available:  # each configuration's rows at once: a run stopped later keeps them
                print(table([o]), flush=True)
            outcomes.append(o)
            write_json(args.out, [x.__dict__ for x in outcomes])
    print()
    print(table(outcomes))
    write_json(args.out, [o.__dict__ for o in outcomes])
    return outcomes


if __name__ == "__main__":
    main()
