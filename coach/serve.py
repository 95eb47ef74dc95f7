"""`coach serve`: one process, or several workers (uvicorn's, each building the app from settings).

Everything several workers must share lives in the database (sessions, the login throttle, import
previews, the AI coach's jobs, the LLM's answer cache). What stays in each process is either
read-only (lexicons, prompts, the tokenizer) or correct per process (the LLM circuit breaker,
the thread pools that bound work and memory): see README "Several workers".

Before the workers start, the parent process prepares the database once — migrations, the
organisation, sample sheets, a first index — so the workers never race to do it.
"""

from __future__ import annotations

from coach.settings import Settings

EMBEDDED_CHROMA = (
    "組み込みの Chroma（索引のフォルダー）は複数のプロセスから安全に使えません。--workers を 2 以上にするときは "
    "Chroma サーバーを起動し（例 chroma run --path data/chroma --port 8001）、COACH_CHROMA_URL にその URL を"
    "設定してください / the embedded Chroma index is not safe in several processes: "
    "with --workers above 1, run a Chroma server and set COACH_CHROMA_URL to its URL."
)
SQLITE_NOTE = (
    "SQLite を複数のプロセスで使います（WAL と 15 秒の busy timeout を設定済み）。書き込みは1つずつ順番になるため、"
    "利用者が多いときや複数のサーバーで動かすときは PostgreSQL（COACH_DATABASE_URL）を使ってください / "
    "several processes share one SQLite file (WAL, 15 s busy timeout): writes take turns; "
    "use PostgreSQL for many users or several machines."
)


def problems(settings: Settings, workers: int) -> list[str]:
    """Why these settings cannot run with `workers` processes (empty: they can)."""
    if workers < 1:
        return ["--workers は 1 以上にしてください / --workers must be at least 1"]
    if workers > 1 and not settings.chroma_url:
        return [EMBEDDED_CHROMA]
    return []


def notes(settings: Settings, workers: int) -> list[str]:
    """What the operator should know about this setup (printed, never refused)."""
    if workers > 1 and settings.resolved_database_url().startswith("sqlite"):
        return [SQLITE_NOTE]
    return []


def prepare(settings: Settings) -> None:
    """Migrate, create the organisation, load samples and fill an empty index, once, in this process."""
    from web.app import create_app

    app = create_app(settings)
    app.state.services.repo._sessions.kw["bind"].dispose()


def worker_app() -> object:
    """The app factory each worker process imports: logs configured there too, as in the parent."""
    from coach import logs
    from coach.settings import get_settings
    from web.app import create_app

    settings = get_settings()
    logs.configure(settings.log_format)
    return frozen(create_app(settings))


def served_app() -> object:
    """The app of `coach serve` with one worker (settings from the environment, as `worker_app`)."""
    from web.app import create_app

    return frozen(create_app())


def frozen(app: object) -> object:
    """Once the app is built, what it holds (modules, the Sudachi dictionary, Chroma, templates …) is moved
    out of the garbage collector's reach (`gc.freeze`): a full collection no longer walks it. Measured
    in-process at 10,000 sheets, such a collection paused a queue request for ~300 ms about every tenth
    request (the queue's p95); frozen, the pauses were ~90–140 ms and rarer. Only the serving processes
    do this, not the tests (which build many apps)."""
    import gc

    gc.collect()
    gc.freeze()
    return app


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    if workers == 1:
        # The web app by name: the CLI itself never imports `web` (uvicorn imports it when it starts).
        uvicorn.run("coach.serve:served_app", factory=True, host=host, port=port, log_config=None)
        return
    prepare(settings)
    # Each worker is a fresh interpreter that imports the factory and reads the same environment.
    uvicorn.run("coach.serve:worker_app", factory=True, host=host, port=port, workers=workers, log_config=None)
