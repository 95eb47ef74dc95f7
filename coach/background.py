"""A background loop: one daemon thread that runs a step when woken and every `poll` seconds anyway.

The notice mailer (coach/mail.py) and the similar-sheet index worker (coach/retrieval/indexer.py)
share this lifecycle: start (once), wake (after a commit), stop (finish the step in hand, then end).
A step that raises is logged and the loop goes on: the next poll tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class BackgroundLoop:
    """Runs `step` in a thread named `name`; `failure` is the message logged when a step raises.
    `settle` seconds after a wake let a burst coalesce first."""

    def __init__(self, name: str, step: Callable[[], object], log: logging.Logger, failure: str, poll: float,
                 settle: float = 0.0) -> None:
        self.name, self.step, self.log, self.failure = name, step, log, failure
        self.poll, self.settle = poll, settle
        self.stopping = threading.Event()  # set by stop(): a long step checks it between batches
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self.stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the step in hand, then end."""
        self.stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self.log.warning("%s did not stop within %.0f s", self.name, timeout)
            self._thread = None

    def _run(self) -> None:
        while not self.stopping.is_set():
            if self._wake.wait(self.poll) and self.settle:
                self.stopping.wait(self.settle)
            self._wake.clear()
            if self.stopping.is_set():
                break
            try:
                self.step()
            except Exception:  # e.g. the database does not answer: try again at the next poll
                self.log.exception(self.failure)
