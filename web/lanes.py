"""Where a request's blocking work runs: the editor's own small lane, or the general thread pool.

The editor sends a request at every typing pause, and refreshes its similar sheets every few pauses.
With fifty people typing, those requests arrive faster than one process can answer them, and each
one is mostly Python holding the interpreter lock. In the general pool (forty threads) they all run
at once and share the lock in slices, so every answer waits for everyone's; the event loop, which
reads requests and sends answers, gets the same thin slice. In a lane of two threads they queue and
finish one after another, and the loop keeps its share: at 50 typists on one process the typing
pause's p95 fell to about half (README, "load bench, round 4").

Only the editor's own requests use the lane (routes marked `@typing_lane`); everything else —
exports, imports, password checks, the DX pages — keeps the general pool, so a slow export or a
burst of logins never holds up typing, and typing never holds them up.

A request in the lane makes one hop to a worker thread and back: its login session is looked up and
its CSRF token checked (web/auth.py) at the start of the route's own hop, not in a hop of their own
(each hop wakes a thread and then the event loop; under load that was a fifth of the process's CPU).
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.requests import Request

T = TypeVar("T")

TYPING_THREADS = 2  # per process; several workers each have their own lane
_TYPING: set[Callable[..., Any]] = set()
# one limiter per event loop (tests run apps on several loops in turn; a limiter belongs to one)
_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


def typing_lane(endpoint: Callable[..., T]) -> Callable[..., T]:
    """Mark a route as one of the editor's typing requests (put it under the `@router` decorator)."""
    _TYPING.add(endpoint)
    return endpoint


def in_typing_lane(request: Request) -> bool:
    return request.scope.get("endpoint") in _TYPING


def _typing_limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = CapacityLimiter(TYPING_THREADS)
    return limiter


def admit_first(request: Request, admission: Callable[[], object]) -> None:
    """`admission` (the login and CSRF checks, web/auth.py) runs in the request's next hop, before
    the work it carries: a typing request's session lookup costs no hop of its own."""
    request.state.admission = admission


def _admitted(request: Request, work: Callable[[], T]) -> T:
    admission = getattr(request.state, "admission", None)
    if admission is not None:
        admission()  # raises (no login, a wrong token) before any of the work runs
        request.state.admission = None
    return work()


async def in_thread(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn` in a worker thread of the request's lane (the database and the critic never hold the
    event loop), after the request's pending admission, if any."""
    limiter = _typing_limiter() if in_typing_lane(request) else None  # None: anyio's general pool
    work = functools.partial(_admitted, request, functools.partial(fn, *args, **kwargs))
    return await anyio.to_thread.run_sync(work, limiter=limiter)
