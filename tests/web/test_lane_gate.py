"""Issue #10: inside the editor's lane, what a person waits for goes first (web/lanes.py `Gate`): the
typing pause, the save and the editor page before the similar refresh.

The gate is driven on a real asyncio loop: requests are tasks that enter, record when they were let
in, and leave when the test says so. No timing: each step waits until the loop has nothing left to
run (`settle`), then looks at who is in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import web.routes.pages
from web.lanes import _FIRST, _TYPING, FIRST_RUN, LATER_THREADS, TYPING_THREADS, Gate


async def settle() -> None:
    for _ in range(20):  # every woken task runs to its next wait
        await asyncio.sleep(0)


class Lane:
    """Requests through one gate; `inside` is who holds a thread, `order` who was let in, in order."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.inside: dict[str, bool] = {}
        self.order: list[str] = []
        self.done: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def arrive(self, name: str, first: bool) -> None:
        self.done[name] = asyncio.Event()

        async def request() -> None:
            await self.gate.enter(first)
            self.inside[name] = first
            self.order.append(name)
            try:
                await self.done[name].wait()
            finally:
                del self.inside[name]
                self.gate.leave(first)

        self.tasks[name] = asyncio.get_running_loop().create_task(request())

    async def finish(self, name: str) -> None:
        self.done[name].set()
        await settle()


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


def test_waiting_first_requests_go_before_later_ones_that_came_earlier() -> None:
    async def scenario() -> None:
        lane = Lane(Gate(threads=2, later_threads=1))
        lane.arrive("pause-1", True)
        lane.arrive("pause-2", True)
        await settle()
        assert lane.order == ["pause-1", "pause-2"]  # both threads taken
        for name, first in [("similar-1", False), ("similar-2", False), ("pause-3", True), ("save-4", True)]:
            lane.arrive(name, first)
            await settle()
        await lane.finish("pause-1")
        await lane.finish("pause-2")
        assert lane.order[2:] == ["pause-3", "save-4"]  # the later ones came first but wait
        await lane.finish("pause-3")
        assert lane.order[4:] == ["similar-1"]
        await lane.finish("save-4")
        assert "similar-2" not in lane.inside  # one thread for the later requests: similar-2 waits for similar-1
        await lane.finish("similar-1")
        assert lane.order[5:] == ["similar-2"]
        await lane.finish("similar-2")
        assert lane.gate.free == 2 and lane.gate.later_free == 1
    run(scenario)


def test_later_requests_never_hold_more_than_their_threads_so_a_pause_finds_one() -> None:
    async def scenario() -> None:
        lane = Lane(Gate(threads=2, later_threads=1))
        for i in range(4):
            lane.arrive(f"similar-{i}", False)
        await settle()
        assert list(lane.inside) == ["similar-0"]
        lane.arrive("pause", True)
        await settle()
        assert set(lane.inside) == {"similar-0", "pause"}  # let in at once, no waiting for a similar search
        for i in range(4):
            await lane.finish(f"similar-{i}")
        await lane.finish("pause")
        assert lane.order == ["similar-0", "pause", "similar-1", "similar-2", "similar-3"]
    run(scenario)


def test_a_later_request_waits_for_at_most_first_run_first_ones() -> None:
    async def scenario() -> None:
        run_ = 3
        lane = Lane(Gate(threads=1, later_threads=1, first_run=run_))
        lane.arrive("pause-0", True)
        await settle()
        lane.arrive("similar", False)
        for i in range(1, 10):
            lane.arrive(f"pause-{i}", True)
        await settle()
        for i in range(run_ + 1):
            await lane.finish(f"pause-{i}")
        assert lane.order == ["pause-0", "pause-1", "pause-2", "pause-3", "similar"]
        await lane.finish("similar")
        assert lane.order[5] == "pause-4"  # then the pauses again
        for i in range(4, 10):
            await lane.finish(f"pause-{i}")
        assert len(lane.order) == 11 and lane.gate.free == 1
    run(scenario)


def test_a_request_whose_client_left_gives_back_its_place_and_its_thread() -> None:
    async def scenario() -> None:
        lane = Lane(Gate(threads=1, later_threads=1))
        lane.arrive("pause-0", True)
        await settle()
        lane.arrive("gone-while-waiting", True)
        lane.arrive("similar", False)
        await settle()
        lane.tasks["gone-while-waiting"].cancel()
        await settle()
        await lane.finish("pause-0")
        assert lane.order == ["pause-0", "similar"]  # the cancelled one took nothing
        await lane.finish("similar")
        assert lane.gate.free == 1 and lane.gate.later_free == 1

        # let in, then cancelled before it ran: the thread goes on to the next one
        lane.arrive("pause-1", True)
        await settle()
        lane.arrive("let-in-then-gone", True)
        lane.arrive("pause-2", True)
        await settle()
        lane.done["pause-1"].set()
        for _ in range(3):  # pause-1 leaves and lets the next one in; cancel it before it runs
            await asyncio.sleep(0)
            if lane.gate.free == 0 and "pause-1" not in lane.inside:
                break
        assert lane.gate.free == 0 and "let-in-then-gone" not in lane.inside  # let in, not yet running
        lane.tasks["let-in-then-gone"].cancel()
        await settle()
        assert "pause-2" in lane.inside and "let-in-then-gone" not in lane.order
        await lane.finish("pause-2")
        assert lane.gate.free == 1
    run(scenario)


def test_what_a_person_waits_for_goes_first_and_the_similar_refresh_after() -> None:
    pages = web.routes.pages
    assert _FIRST == {pages.check, pages.submit, pages.editor}
    assert _TYPING - _FIRST == {pages.similar_live}
    assert 1 <= LATER_THREADS < TYPING_THREADS and FIRST_RUN >= 1


@pytest.mark.parametrize("first", [True, False])
def test_an_idle_gate_lets_in_at_once(first: bool) -> None:
    async def scenario() -> None:
        gate = Gate()
        await asyncio.wait_for(gate.enter(first), timeout=5)  # a bound on a hang, not a measurement
        gate.leave(first)
        assert gate.free == TYPING_THREADS and gate.later_free == LATER_THREADS
    run(scenario)
