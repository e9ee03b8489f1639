"""The background worker: a new round after every N new labels, while annotators keep working.

A daemon thread polls the project's label count (a few rows of ``sample_tally``, whatever the
pool size) every ``poll_seconds`` and runs :meth:`Controller.run_round` when ``retrain_every``
labels arrived since the last round, or at once when the project has no round yet (the first
queue). A failing round is logged and retried at the next poll; :meth:`Retrainer.stop` ends the
thread.
"""

from __future__ import annotations

import logging
import threading

from labelwise.controller.loop import Controller, RoundReport
from labelwise.store import list_rounds
from labelwise.store.annotator_stats import labeled_count

__all__ = ["Retrainer"]

logger = logging.getLogger(__name__)


class Retrainer:
    """Runs rounds of ``controller`` in a background thread."""

    def __init__(self, controller: Controller, poll_seconds: float = 1.0) -> None:
        self.controller = controller
        self.poll_seconds = poll_seconds
        self.last_report: RoundReport | None = None
        self.last_error: str | None = None
        self._labels_at_round: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"labelwise-retrain-{controller.project}", daemon=True
        )

    def start(self) -> Retrainer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

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
        if self.last_report is not None and self.last_report.stop.stop:
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

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
                self.last_error = None
            except Exception as exc:  # keep serving; the error is shown on the dashboard
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("round failed for project %s", self.controller.project)
            self._stop.wait(self.poll_seconds)
