"""What the HTTP benchmarks share: a database to seed, a real `coach serve` subprocess on 127.0.0.1,
logged-in clients, and percentiles.

The benchmarks import the product only through this module, `coach.db` and `coach.settings`, so a
module moving inside the product is mended here once.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.servers import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"


def pct(values: Sequence[float], p: int) -> float:
    """The p-th percentile (statistics' exclusive method); one value is its own percentile."""
    if not values:
        return 0.0
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else float(values[0])


def timed_ms(fetch: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fetch()
    return result, (time.perf_counter() - started) * 1000


def out_dir() -> Path:
    """benchmarks/out, or BENCH_OUT (the smoke test keeps its files out of the tree)."""
    return Path(os.environ.get("BENCH_OUT") or ROOT / "benchmarks" / "out")


def write_json(name: str, data: Any) -> Path:
    import json

    out_dir().mkdir(parents=True, exist_ok=True)
    path = out_dir() / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


# -- the database ----------------------------------------------------------------------------------

def settings_for(data_dir: Path, database_url: str | None = None, org_name: str | None = None) -> Any:
    from coach.settings import Settings

    extra: dict[str, Any] = {"database_url": database_url} if database_url else {}
    if org_name:
        extra["org_name"] = org_name
    return Settings(data_dir=data_dir, load_samples=False, **extra)


def open_database(settings: Any) -> sessionmaker[Session]:
    """The schema at the head revision, as the app builds it."""
    from coach.db import init_db, make_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return init_db(make_engine(settings.resolved_database_url()), True)


def empty_postgres(url: str) -> None:
    """Drop every table of the benchmark's own PostgreSQL database (never point this at real data)."""
    from coach.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _product_module(name: str) -> Any:
    """A workspace module wherever it lives today (`coach.workspace.x` after the move, else `coach.x`)."""
    for candidate in (f"coach.workspace.{name}", f"coach.{name}"):
        try:
            return importlib.import_module(candidate)
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"coach.workspace.{name} / coach.{name}")


def create_account(sessions: sessionmaker[Session], organisation_id: int, login: str, role: str,
                   section: str | None = None) -> None:
    accounts = _product_module("accounts").Accounts(sessions)
    accounts.create(organisation_id, login, f"{login}さん", role, PASSWORD, section=section)


def ensure_organisation(sessions: sessionmaker[Session], name: str) -> int:
    from coach.repository import SheetRepository

    return int(SheetRepository(sessions).ensure_organisation(name))


# -- the server ------------------------------------------------------------------------------------

def serve_options() -> str:
    """`coach serve --help`: which options this commit's server has (e.g. --workers)."""
    done = subprocess.run([sys.executable, "-m", "coach", "serve", "--help"], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    return done.stdout


def supports_workers() -> bool:
    return "--workers" in serve_options()


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]

    def client(self, timeout: float = 60) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=timeout)

    def login(self, login: str, password: str = PASSWORD, timeout: float = 60) -> httpx.Client:
        """A client logged in through the login form; htmx's CSRF header is set as the page sets it."""
        c = self.client(timeout)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token, "no CSRF token on /login"
        r = c.post("/login", data={"login": login, "password": password, "csrf_token": token.group(1)})
        assert r.status_code in (200, 303), f"login {login}: {r.status_code}"
        page = c.get("/").text
        header = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
        assert header, f"login {login} failed (no CSRF header on /)"
        c.headers["X-CSRF-Token"] = header.group(1)
        return c


@contextmanager
def chroma_serving(path: Path) -> Iterator[str]:
    """A `chroma run` server on 127.0.0.1 (several workers share the index through it); its URL."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = free_port()
    proc = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/v2/heartbeat", tries=600)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def serving(settings: Any, workers: int | None = None, quiet: bool = True,
            chroma_url: str | None = None) -> Iterator[Server]:
    """`coach serve` in a subprocess with these settings' database; stopped (and killed if stuck) after.
    With `chroma_url` the index is that Chroma server (required by `--workers` above 1)."""
    port = free_port()
    env = {**os.environ, "COACH_DATA_DIR": str(settings.data_dir), "COACH_LOAD_SAMPLES": "0",
           "COACH_ORG_NAME": settings.org_name}
    if settings.database_url:
        env["COACH_DATABASE_URL"] = settings.database_url
    if chroma_url:
        env["COACH_CHROMA_URL"] = chroma_url
    args = [sys.executable, "-m", "coach", "serve", "--port", str(port)]
    if workers is not None and workers > 1:
        args += ["--workers", str(workers)]
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen(args, env=env, stdout=out, stderr=out, cwd=ROOT)
    server = Server(f"http://127.0.0.1:{port}", proc)
    try:
        wait_until_up(server.base + "/login", tries=600)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # ours and stuck: it goes
            proc.kill()
            proc.wait(timeout=10)


def copy_tree(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def eval_sheets() -> list[dict[str, Any]]:
    """Realistic sheet texts: the labelled eval sets' sheets (dev, holdout, realistic)."""
    import json

    rows: list[dict[str, Any]] = []
    for name in ("devset.jsonl", "holdout.jsonl", "realistic_dev.jsonl", "realistic_holdout.jsonl"):
        path = ROOT / "evals" / name
        if path.exists():
            rows += [json.loads(line)["sheet"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    return rows
