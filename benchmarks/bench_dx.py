"""The DX team's pages at a prefecture's size (issue #10): 10,000 sheets in 50 organisations.

The data is written straight into the database (benchmarks/dx_data.py), then a real `coach serve`
on 127.0.0.1 indexes it on its first start (embedded Chroma) and a DX member of the first
organisation (~200 sheets, 85 % submitted) fetches each page --runs times: the review queue, one
review page, the overview, the sheet list and the .xlsx export. Each page is bounded by
--page-seconds; a page slower than that reports the runs it got.

SQLite by default: the data folder (database + index) is cached under benchmarks/out/dx-cache-…,
keyed by the sizes and the generator's version, and regenerated when its schema no longer matches
the models (a migration was added). `--postgres URL` writes into that database instead (emptied
first; the index is rebuilt at each start). With `--workers N` (N > 1, PostgreSQL only) the server runs
N processes that share PostgreSQL and a `chroma run` server, as several replicas would (issue #13).
Results: a table on stdout and benchmarks/out/dx.json.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks import dx_data
from benchmarks.server import (
    chroma_serving,
    copy_tree,
    create_account,
    empty_postgres,
    load_average,
    open_database,
    out_dir,
    pct,
    serving,
    settings_for,
    write_json,
)

ORG_NAME = "サンプル町"
PRIME_INDEX_FROM = 1000  # sheets: from this size the similar-sheet index is built once into the cache


def _fresh(settings: Any, orgs: int, per_org: int, chroma_url: str | None = None) -> None:
    """Generate into an empty database, then start the server once so it builds the index (in the
    embedded Chroma, or in the `chroma run` server at `chroma_url`)."""
    sessions = open_database(settings)
    engine = sessions.kw["bind"]
    dx_data.generate(engine, settings.org_name, orgs, per_org)
    create_account(sessions, 1, "dxteam", "dx")
    engine.dispose()
    if orgs * per_org < PRIME_INDEX_FROM:  # small: the measured server's own start indexes it quickly
        return
    started = time.monotonic()
    with serving(settings, chroma_url=chroma_url):
        pass
    print(f"generated {orgs * per_org} sheets and their index in {time.monotonic() - started:.0f} s (server start)")


def prepare_sqlite(orgs: int, per_org: int) -> Any:
    """A copy of the cached data folder (rebuilt when missing or its schema differs)."""
    from coach.db import make_engine

    cache = out_dir() / f"dx-cache-{orgs}x{per_org}-g{dx_data.GENERATOR_VERSION}"
    cached = settings_for(cache, org_name=ORG_NAME)
    ok = (cache / "coach.db").exists() and (cache / "ready").exists()
    if ok:
        engine = make_engine(cached.resolved_database_url())
        ok = dx_data.schema_matches(engine) and dx_data.sheet_count(engine) == orgs * per_org
        engine.dispose()
    if not ok:
        print(f"(re)generating {cache.name}")
        shutil.rmtree(cache, ignore_errors=True)
        _fresh(cached, orgs, per_org)
        (cache / "ready").write_text("ok", encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="bench-dx-")) / "data"
    copy_tree(cache, work)
    return settings_for(work, org_name=ORG_NAME)


def prepare_postgres(url: str, orgs: int, per_org: int, chroma_url: str | None = None) -> Any:
    empty_postgres(url)
    settings = settings_for(Path(tempfile.mkdtemp(prefix="bench-dx-pg-")), url, org_name=ORG_NAME)
    _fresh(settings, orgs, per_org, chroma_url)
    return settings


def measure(settings: Any, runs: int, page_seconds: float, workers: int = 1,
            chroma_url: str | None = None) -> dict[str, dict[str, Any]]:
    from coach.db import make_engine

    engine = make_engine(settings.resolved_database_url())
    sheet_id = dx_data.a_submitted_sheet(engine, settings.org_name)
    engine.dispose()
    results: dict[str, dict[str, Any]] = {}
    with serving(settings, workers=workers, chroma_url=chroma_url) as server:
        dx = server.login("dxteam")
        pages = {"review queue (/review?state=all)": "/review?state=all",
                 "review page (/review/{id})": f"/review/{sheet_id}",
                 "overview (/overview)": "/overview",
                 "sheet list (/)": "/",
                 "export .xlsx of the organisation": "/export/sheets.xlsx"}
        for name, path in pages.items():
            times, errors = [], 0
            deadline = time.monotonic() + page_seconds
            for i in range(runs + 1):  # the first is a warm-up
                t = time.perf_counter()
                status = dx.get(path, timeout=max(5.0, page_seconds)).status_code
                ms = (time.perf_counter() - t) * 1000
                errors += status != 200
                if i:
                    times.append(ms)
                if time.monotonic() > deadline:
                    break
            results[name] = {"runs": len(times), "errors": errors, "p50_ms": round(pct(times, 50), 1),
                             "p95_ms": round(pct(times, 95), 1)}
            print(f"{name:<36} p50 {results[name]['p50_ms']:>8.1f} ms  p95 {results[name]['p95_ms']:>8.1f} ms  "
                  f"({len(times)} runs, {errors} errors)", flush=True)
    return results


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| page | runs | errors | p50 ms | p95 ms |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {r['runs']} | {r['errors']} | {r['p50_ms']} | {r['p95_ms']} |" for name, r in results.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description="The DX team's pages at a prefecture's size")
    p.add_argument("--orgs", type=int, default=50)
    p.add_argument("--per-org", type=int, default=200)
    p.add_argument("--runs", type=int, default=20, help="requests per page (after one warm-up)")
    p.add_argument("--page-seconds", type=float, default=90.0, help="time bound per page")
    p.add_argument("--postgres", default=None, help="PostgreSQL URL to write into (emptied first)")
    p.add_argument("--workers", type=int, default=1,
                   help="`coach serve --workers`; above 1 needs --postgres and starts a `chroma run` server")
    p.add_argument("--out", default="dx.json", help="file name under benchmarks/out")
    args = p.parse_args(argv)
    if args.workers > 1 and not args.postgres:
        p.error("--workers above 1 needs --postgres (several processes share PostgreSQL and a Chroma server)")
    started = time.monotonic()
    with ExitStack() as stack:
        chroma = None
        if args.workers > 1:
            chroma = stack.enter_context(chroma_serving(Path(tempfile.mkdtemp(prefix="bench-dx-chroma-"))))
        if args.postgres:
            settings = prepare_postgres(args.postgres, args.orgs, args.per_org, chroma)
        else:
            settings = prepare_sqlite(args.orgs, args.per_org)
        pages = measure(settings, args.runs, args.page_seconds, args.workers, chroma)
    report = {"database": "postgresql" if args.postgres else "sqlite", "workers": args.workers,
              "chroma": "server" if args.workers > 1 else "embedded", "orgs": args.orgs, "per_org": args.per_org,
              "sheets": args.orgs * args.per_org, "load_average": load_average(), "pages": pages,
              "seconds": round(time.monotonic() - started, 1)}
    print()
    print(f"{report['sheets']} sheets in {args.orgs} organisations ({report['database']}, "
          f"{args.workers} worker(s), Chroma {report['chroma']}), "
          f"load average {report['load_average']}")
    print(table(pages))
    write_json(args.out, report)
    return report


if __name__ == "__main__":
    main()
