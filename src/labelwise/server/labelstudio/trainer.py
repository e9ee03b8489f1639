"""The backend's one background thread: debounced retrains and periodic resyncs.

Webhooks only *note* an annotation (:meth:`Trainer.note`) and return. The thread runs a
project's refresh (resync, retrain, push: :meth:`labelwise.server.labelstudio.backend.
LabelStudioBackend.refresh`) when

* ``train_every`` annotation events are new, or
* ``train_delay`` seconds have passed since the first new one (a quiet project still learns
  its last labels), or
* it was asked to at once (``POST /train``, a project connecting, the start), or
* ``resync_every`` seconds have passed since the last resync of every project.

One refresh runs at a time; events that arrive meanwhile are counted for the next one, so N
webhooks in a burst cost one retrain, not N. ``/predict`` and ``/setup`` never wait for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Why a refresh runs: new annotations, an explicit request, or a resync.
Reason = str


@dataclass
class _Due:
    pending: int = 0
    first_at: float | None = None
    asked: Reason | None = None


class Trainer:
    """Schedules ``refresh(project, reason)`` calls on one thread.

    Parameters
    ----------
    refresh : the work for one project; exceptions are logged and kept in :attr:`errors`.
    projects : the projects a periodic resync covers.
    train_every, train_delay, resync_every : see :class:`~labelwise.server.labelstudio.
        settings.BackendSettings` (``resync_every`` 0: no periodic resync).
    """

    def __init__(
        self,
        refresh: Callable[[int, Reason], None],
        projects: Callable[[], Iterable[int]],
        *,
        train_every: int,
        train_delay: float,
        resync_every: float,
    ) -> None:
        self._refresh = refresh
        self._projects = projects
        self.train_every = train_every
        self.train_delay = train_delay
        self.resync_every = resync_every
        self._due: dict[int, _Due] = {}
        self._cond = threading.Condition()
        self._busy: int | None = None
        self._stop = False
        self._thread: threading.Thread | None = None
        self._next_resync = time.monotonic() + resync_every if resync_every else None
        self.errors: dict[int, str] = {}
        self.runs: dict[int, int] = {}

    # -- what the routes call -----------------------------------------------------------------
    def note(self, project: int, events: int = 1) -> int:
        """Count ``events`` new annotation events of ``project``; returns how many wait."""
        with self._cond:
            due = self._due.setdefault(project, _Due())
            due.pending += events
            if due.first_at is None:
                due.first_at = time.monotonic()
            self._cond.notify_all()
            return due.pending

    def ask(self, project: int, reason: Reason) -> None:
        """Refresh ``project`` as soon as the thread is free."""
        with self._cond:
            self._due.setdefault(project, _Due()).asked = reason
            self._cond.notify_all()

    def state(self, project: int) -> dict[str, object]:
        """``pending`` events, whether a refresh runs or waits, and the last error."""
        with self._cond:
            due = self._due.get(project, _Due())
            return {
                "pending": due.pending,
                "training": self._busy == project,
                "queued": due.asked is not None or self._ready(due, time.monotonic()),
                "error": self.errors.get(project),
                "refreshes": self.runs.get(project, 0),
            }

    def idle(self) -> bool:
        """Whether nothing runs and nothing is due now (events may wait for their delay)."""
        with self._cond:
            now = time.monotonic()
            return self._busy is None and not any(
                due.asked or self._ready(due, now) for due in self._due.values()
            )

    # -- the thread ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="labelwise-ls-trainer")
            self._thread.daemon = True
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to end after the refresh it runs, and wait for it."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _ready(self, due: _Due, now: float) -> bool:
        if due.pending >= self.train_every:
            return True
        return due.first_at is not None and now - due.first_at >= self.train_delay

    def _next(self) -> tuple[int, Reason] | None:
        """Wait for the next due refresh; None when stopped. Called with the lock held."""
        while not self._stop:
            now = time.monotonic()
            if self._next_resync is not None and now >= self._next_resync:
                self._next_resync = now + self.resync_every
                for project in self._projects():
                    due = self._due.setdefault(project, _Due())
                    due.asked = due.asked or "resync"
            for project, due in self._due.items():
                if due.asked is not None or self._ready(due, now):
                    reason = due.asked or "annotations"
                    due.pending, due.first_at, due.asked = 0, None, None
                    return project, reason
            deadlines = [
                due.first_at + self.train_delay
                for due in self._due.values()
                if due.first_at is not None
            ]
            if self._next_resync is not None:
                deadlines.append(self._next_resync)
            wait = max(0.0, min(deadlines) - now) if deadlines else None
            self._cond.wait(wait)
        return None

    def _run(self) -> None:
        while True:
            with self._cond:
                job = self._next()
                if job is None:
                    return
                self._busy = job[0]
            project, reason = job
            try:
                self._refresh(project, reason)
                self.errors.pop(project, None)
            except Exception as exc:  # the thread must outlive any one project's failure
                logger.exception("refreshing Label Studio project %d failed", project)
                self.errors[project] = f"{type(exc).__name__}: {exc}"
            finally:
                with self._cond:
                    self._busy = None
                    self.runs[project] = self.runs.get(project, 0) + 1
                    self._cond.notify_all()
