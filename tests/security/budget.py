"""Bounds for every fuzz test: a fixed number of examples per route and database, and a time budget.

Examples are derandomized (the same inputs every run, so a rerun reproduces a failure and CI does
not flicker); `COACH_FUZZ_RANDOM=1` draws new ones, `COACH_FUZZ_SCALE=4` draws four times as many.
The explicit hostile text (test_hostile_text.py) sends each route a fixed deal of its cases;
`COACH_FUZZ_FULL=1` sends every case into every field (`make fuzz-deep`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, settings

SCALE = max(1, int(os.environ.get("COACH_FUZZ_SCALE", "1") or 1))
RANDOM = os.environ.get("COACH_FUZZ_RANDOM", "") == "1"
FULL = os.environ.get("COACH_FUZZ_FULL", "") == "1"
EXAMPLES = {"sqlite": 30 * SCALE, "postgresql": 15 * SCALE}
SECONDS_PER_TEST = 4.0 * SCALE


def fuzz_settings(db: str, examples: dict[str, int] | None = None) -> settings:
    return settings(
        max_examples=(examples or EXAMPLES)[db],
        deadline=None,
        database=None,  # nothing written into the work tree
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),  # big bodies and a shared app are the point here
        print_blob=True,
        # no shrinking: a failure is reported as found (with its input class), and the run stays bounded
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )


class Budget:
    """Stops sending once a test has used its seconds. Examples are still drawn in full (hypothesis
    requires the same draws on every replay), only the request is left out; and once an example has
    failed, every replay sends again, so the budget never hides a failure."""

    def __init__(self, seconds: float = SECONDS_PER_TEST) -> None:
        self.end = time.monotonic() + seconds
        self.failing = False

    def send(self, request: Callable[[], None]) -> None:
        if not self.failing and time.monotonic() > self.end:
            return
        try:
            request()
        except BaseException:
            self.failing = True
            raise
