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

Within the lane, what a person waits for goes first (routes marked `@first_in_lane`): the typing
pause's coaching, the save and the editor page it leads to. The similar-sheet refresh — a panel beside
the form that htmx refreshes 1.2 s after typing stops — waits behind those already waiting, and holds
at most one of the lane's two threads, so a typing pause always finds the other. It is still answered:
after FIRST_RUN requests in a row have gone ahead of a waiting refresh, the refresh goes next. At 50
typists this took the typing pause's p95 under 100 ms and moved the wait to the refresh (README,
"load bench, round 6").
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.requests import Request

T = TypeVar("T")

TYPING_THREADS = 2  # per process; several workers each have their own lane
LATER_THREADS = 1  # of those, what the later requests (the similar refresh) may hold at once
FIRST_RUN = 8  # first requests let in ahead of a waiting later one, at most, before it goes
_TYPING: set[Callable[..., Any]] = set()
_FIRST: set[Callable[..., Any]] = set()


class Gate:
    """The lane's threads, handed out in order: the first requests waiting (in the order they came),
    then the later ones. Belongs to one event loop; not thread-safe (only the loop calls it)."""

    def __init__(self, threads: int = TYPING_THREADS, later_threads: int = LATER_THREADS,
                 first_run: int = FIRST_RUN) -> None:
        self.free = threads
        self.later_free = later_threads
        self.first_run = first_run
        self.let_ahead = 0  # first requests let in since a later one was, while a later one waited
        self._first: deque[asyncio.Future[None]] = deque()
        self._later: deque[asyncio.Future[None]] = deque()

    async def enter(self, first: bool) -> None:
        if self.free and (not self._first if first else self.later_free and not self._later):
            self._take(first)
            return
        queue = self._first if first else self._later
        place = asyncio.get_running_loop().create_future()
        queue.append(place)
        try:
            await place
        except asyncio.CancelledError:  # the client left while waiting
            if place.done() and not place.cancelled():
                self.leave(first)  # let in just before: hand the thread on
            elif place in queue:
                queue.remove(place)
            raise

    def leave(self, first: bool) -> None:
        self.free += 1
        if not first:
            self.later_free += 1
        self._let_in()

    def _take(self, first: bool) -> None:
        self.free -= 1
        if not first:
            self.later_free -= 1

    def _let_in(self) -> None:
        while self.free:
            later_may = bool(self._later) and self.later_free > 0
            if self._first and not (later_may and self.let_ahead >= self.first_run):
                first, queue = True, self._first
                self.let_ahead += 1 if later_may else 0
            elif later_may:
                first, queue, self.let_ahead = False, self._later, 0
            else:
                return
            place = queue.popleft()
            if place.done():  # cancelled while waiting; its task removes nothing more
                continue
            self._take(first)
            place.set_result(None)


# one gate and thread limiter per event loop (tests run apps on several loops in turn; each belongs to one)
_LANES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Gate, CapacityLimiter]] = \
    weakref.WeakKeyDictionary()


def typing_lane(endpoint: Callable[..., T]) -> Callable[..., T]:
    """Mark a route as one of the editor's typing requests (put it under the `@router` decorator)."""
    _TYPING.add(endpoint)
    return endpoint


def first_in_lane(endpoint: Callable[..., T]) -> Callable[..., T]:
    """Mark an editor request a person waits for: in the lane, and let in before the later ones."""
    _FIRST.add(endpoint)
    return typing_lane(endpoint)


def in_typing_lane(request: Request) -> bool:
    return request.scope.get("endpoint") in _TYPING


def _lane() -> tuple[Gate, CapacityLimiter]:
    loop = asyncio.get_running_loop()
    lane = _LANES.get(loop)
    if lane is None:
        lane = _LANES[loop] = (Gate(), CapacityLimiter(TYPING_THREADS))
    return lane


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
    work = functools.partial(_admitted, request, functools.partial(fn, *args, **kwargs))
    if not in_typing_lane(request):
        return await anyio.to_thread.run_sync(work)  # anyio's general pool
    gate, limiter = _lane()
    first = request.scope.get("endpoint") in _FIRST
    await gate.enter(first)
    try:  # the gate lets in no more than the limiter's threads: the limiter never makes it wait
        return await anyio.to_thread.run_sync(work, limiter=limiter)
    finally:
        gate.leave(first)
