"""For operators and load balancers: liveness, readiness and the version. No login, no details.

/readyz answers 503 when the database is unreachable or its schema is behind (this replica must not
take traffic). An unreachable vector store makes it "degraded" but still 200: every replica shares
that store, and the product works without it (the similar-sheet panel says so), so taking all
replicas out of the load balancer for it would turn a missing panel into an outage. It also says how
many index updates are still queued (coach/outbox.py): a number that keeps growing means the index
lags behind the sheets.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from coach import __version__, migrate
from coach.retrieval.store import IndexMismatch
from web.deps import ServicesDep

router = APIRouter(include_in_schema=False)
log = logging.getLogger("coach.web")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/version")
def version() -> dict[str, str]:
    return {"version": __version__}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    checks = {"database": "ok", "migrations": "ok", "vector_store": "ok"}
    engine = services.repo.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if not migrate.state(engine).up_to_date:
            checks["migrations"] = "behind"
    except Exception:
        log.exception("readiness: database unreachable")
        checks["database"] = checks["migrations"] = "unavailable"
    try:
        services.similar.store.ready()
    except IndexMismatch:
        checks["vector_store"] = "needs_reindex"
    except Exception:
        log.warning("readiness: vector store unreachable", exc_info=True)
        checks["vector_store"] = "unavailable"
    if checks["database"] != "ok" or checks["migrations"] != "ok":
        return JSONResponse({"status": "unavailable", "checks": checks}, status_code=503)
    status = "ready" if checks["vector_store"] == "ok" else "degraded"
    return JSONResponse({"status": status, "checks": checks, "index_backlog": _backlog(services)})


def _backlog(services: ServicesDep) -> int | None:
    """How many sheets wait for their index update (a count only, never which)."""
    try:
        return services.outbox.count()
    except Exception:
        log.warning("readiness: index outbox unreadable", exc_info=True)
        return None
