"""The measuring instruments of issue #10 stay runnable: the load bench (--quick) and the DX-pages
bench at a tiny size run against a real `coach serve` on 127.0.0.1 and produce their tables with
zero errors. Timings are printed by the benches, never asserted here."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench_dx, bench_load


@pytest.fixture(autouse=True)
def _out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_OUT", str(tmp_path / "out"))


def test_load_bench_quick_run_has_no_errors_and_no_missing_save(capsys: pytest.CaptureFixture[str]) -> None:
    [outcome] = bench_load.main(["--quick"])
    assert outcome.available, outcome.reason
    assert outcome.requests > 0
    for kind in ("critique+autosave (POST /check)", "explicit save (POST, 303)"):
        assert outcome.kinds[kind]["count"] > 0, f"no {kind} in the quick run"
    assert outcome.errors == 0, outcome.kinds
    assert outcome.missing == []
    assert outcome.server_cpu_ms is not None and outcome.server_cpu_ms > 0  # the server did the work
    table = capsys.readouterr().out
    assert "| sqlite-1 | 3 | critique+autosave (POST /check) |" in table


def test_load_bench_reports_missing_workers_or_postgres_instead_of_faking_them() -> None:
    outcome = bench_load.run_config("postgres-2", 2, 1.0, 10, None, workers_ok=False)
    assert not outcome.available and "PostgreSQL" in outcome.reason
    outcome = bench_load.run_config("postgres-2", 2, 1.0, 10, "postgresql+psycopg://unused/db", workers_ok=False)
    assert not outcome.available and "--workers" in outcome.reason


def test_dx_bench_at_a_tiny_size_serves_every_page(capsys: pytest.CaptureFixture[str]) -> None:
    report = bench_dx.main(["--orgs", "2", "--per-org", "6", "--runs", "2", "--page-seconds", "30"])
    assert set(report["pages"]) == {"review queue (/review?state=all)", "review page (/review/{id})",
                                    "overview (/overview)", "sheet list (/)", "export .xlsx of the organisation"}
    for name, page in report["pages"].items():
        assert page["runs"] == 2 and page["errors"] == 0, name
    assert "| overview (/overview) | 2 | 0 |" in capsys.readouterr().out
