"""The project's trainer: rounds after every N new labels, off the request path, and a queue
kept full while they train.

Two daemon threads per project:

* the trainer polls the label count (a few rows of ``sample_tally``, whatever the pool size)
  every ``poll_seconds`` and runs :meth:`Controller.run_round` when ``retrain_every`` labels
  arrived since the last round, or at once when the project has no round yet;
* the keeper calls :meth:`Controller.top_up` every ``keep_seconds``, so the queue follows the
  team from the last round's ranking while the next round trains.

No request ever waits for either: they hold no lock a request takes. A failing round is logged,
shown on the dashboard (``last_error``) and retried at the next poll; :meth:`Retrainer.stop`
ends both threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from labelwise.controller.loop import Controller, RoundReport
from labelwise.store import list_rounds
from labelwise.store.annotator_stats import labeled_count

__all__ = ["Retrainer"]

logger = logging.getLogger(__name__)


class Retrainer:
    """Runs rounds of ``controller`` and keeps its queue full, in background threads."""

    def __init__(
        self, controller: Controller, poll_seconds: float = 1.0, keep_seconds: float = 0.25
    ) -> None:
        self.controller = controller
        self.poll_seconds = poll_seconds
        self.keep_seconds = keep_seconds
        self.last_report: RoundReport | None = None
        self.last_error: str | None = None
        self.rounds_failed = 0
        self._labels_at_round: int | None = None
        self._stop = threading.Event()
        name = controller.project
        self._threads = [
            threading.Thread(target=self._train, name=f"labelwise-train-{name}", daemon=True),
            threading.Thread(target=self._keep, name=f"labelwise-queue-{name}", daemon=True),
        ]

    def start(self) -> Retrainer:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def _labeled(self) -> int:
        return labeled_count(self.controller.store, self.controller.project)

    def due(self) -> bool:
        """Whether a round should run now."""
        labeled = self._labeled()
        if self._labels_at_round is None:
            rounds = list_rounds(self.controller.store, self.controller.project)
            if not rounds:
                return True
            self._labels_at_round = int(rounds[-1].metrics.get("n_labeled", 0) or 0)
        if self.controller.stop_decision().stop:
            return False
        every = self.controller.settings().retrain_every
        return labeled - self._labels_at_round >= every

    def step(self) -> RoundReport | None:
        """Run a round if one is due; the report, or None."""
        if not self.due():
            return None
        report = self.controller.run_round(actor="retrainer")
        self._labels_at_round = report.n_labeled
        self.last_report = report
        return report

    def _forever(self, action: Callable[[], object], every: float, what: str) -> None:
        while not self._stop.is_set():
            try:
                action()
                if what == "round":
                    self.last_error = None
            except Exception as exc:  # keep serving; the error is shown on the dashboard
                if what == "round":
                    self.rounds_failed += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("%s failed for project %s", what, self.controller.project)
            self._stop.wait(every)

    def _train(self) -> None:
        self._forever(self.step, self.poll_seconds, "round")

    def _keep(self) -> None:
        self._forever(lambda: self.controller.top_up(actor="queue"), self.keep_seconds, "top-up")
