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

Past one process (PostgreSQL), :class:`Trainers` is what ``labelwise worker`` runs: it claims
projects (:func:`labelwise.store.projects.claim_rounds`, an advisory lock per project) and runs
a :class:`Retrainer` for each project it holds, so two trainer processes never train one
project, and a project whose trainer died is taken over by another within ``claim_seconds``.
A round is recorded in one transaction, so a trainer killed mid-round leaves no half of one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from labelwise.controller.loop import Controller, RoundReport, stop_state
from labelwise.controller.stopping import StopDecision
from labelwise.errors import LabelwiseError
from labelwise.store import Store, list_projects, list_rounds
from labelwise.store.annotator_stats import labeled_count
from labelwise.store.projects import RoundsClaim, check_claims_possible, claim_rounds

__all__ = ["ClaimedController", "Retrainer", "RoundsBusyError", "Trainers"]

logger = logging.getLogger(__name__)


class Retrainer:
    """Runs rounds of ``controller`` and keeps its queue full, in background threads."""

    def __init__(
        self,
        controller: Controller,
        poll_seconds: float = 1.0,
        keep_seconds: float = 0.25,
        *,
        actor: str = "retrainer",
        on_round: Callable[[str, str, int | None], None] | None = None,
    ) -> None:
        self.controller = controller
        self.poll_seconds = poll_seconds
        self.keep_seconds = keep_seconds
        self.actor = actor
        self.on_round = on_round  # ("start" | "end" | "failed", project, number) for the log
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
        project = self.controller.project
        if self.on_round is not None:
            self.on_round("start", project, None)
        try:
            report = self.controller.run_round(actor=self.actor)
        except BaseException:
            if self.on_round is not None:
                self.on_round("failed", project, None)
            raise
        if self.on_round is not None:
            self.on_round("end", project, report.number)
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


class RoundsBusyError(LabelwiseError):
    """Another process (a ``labelwise worker``) holds the project's rounds."""


class ClaimedController(Controller):
    """The controller of an API process that leaves training to ``labelwise worker``.

    Its rounds first claim the project (PostgreSQL advisory lock): one asked for here while a
    trainer holds the project is refused with :class:`RoundsBusyError`, never run twice. Its
    stop state is read from the store again when older than ``fresh_seconds``, since rounds
    recorded by another process decide it; so is the model it suggests with, which the
    trainer's rounds keep in the store (:mod:`labelwise.controller.published`).
    """

    fresh_seconds: ClassVar[float] = 1.0
    _read: tuple[StopDecision, float] | None = None  # (the state, when it was read)

    def stop_decision(self) -> StopDecision:
        """The project's stop state as the store had it at most ``fresh_seconds`` ago."""
        now = time.monotonic()
        read = self._read
        if read is None or now - read[1] > self.fresh_seconds:
            read = self._read = (stop_state(self.store, self.project), now)
        return read[0]

    def run_round(self, *, actor: str = "labelwise") -> RoundReport:
        claim = claim_rounds(self.store, self.project)
        if claim is None:
            raise RoundsBusyError(
                f"a trainer process (labelwise worker) holds project {self.project!r}: it runs "
                "a round every retrain_every labels; wait for it, or stop it to run one here"
            )
        with claim:
            return super().run_round(actor=actor)


@dataclass
class _Held:
    claim: RoundsClaim
    retrainer: Retrainer


class Trainers:
    """``labelwise worker``: claim projects nobody trains, and train them until told to stop.

    Parameters
    ----------
    store : Store
        A PostgreSQL store (claims are advisory locks of its server).
    projects : sequence of str, optional
        Train only these (default: every project, new ones included as they appear).
    poll_seconds : float
        How often each held project's trainer looks for new labels.
    claim_seconds : float
        How often unclaimed projects are looked for, and held claims checked.
    actor : str
        Who the rounds are recorded as (audit, round log).
    on_event : callable, optional
        Called with a line for each thing that happens (claimed, lost, round start/end).
    """

    def __init__(
        self,
        store: Store,
        projects: Sequence[str] | None = None,
        *,
        poll_seconds: float = 1.0,
        claim_seconds: float = 2.0,
        actor: str = "worker",
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        check_claims_possible(store)
        self.store = store
        self.projects = None if projects is None else list(projects)
        self.poll_seconds = poll_seconds
        self.claim_seconds = claim_seconds
        self.actor = actor
        self.on_event = on_event
        self._held: dict[str, _Held] = {}

    @property
    def held(self) -> list[str]:
        """The projects this process trains now."""
        return sorted(self._held)

    def _say(self, line: str) -> None:
        logger.info(line)
        if self.on_event is not None:
            self.on_event(line)

    def _on_round(self, phase: str, project: str, number: int | None) -> None:
        at = f"{time.time():.6f}"
        self._say(f"round {phase} {project} {'-' if number is None else number} {at}")

    def step(self) -> list[str]:
        """One pass: drop claims whose session is gone, claim what is free; projects claimed."""
        for name, held in list(self._held.items()):
            if not held.claim.held:
                held.retrainer.stop()
                del self._held[name]
                self._say(f"lost {name}")
        wanted = self.projects
        if wanted is None:
            wanted = [info.name for info in list_projects(self.store)]
        claimed = []
        for name in wanted:
            if name in self._held:
                continue
            claim = claim_rounds(self.store, name)
            if claim is None:
                continue
            retrainer = Retrainer(
                Controller(self.store, name),
                self.poll_seconds,
                actor=self.actor,
                on_round=self._on_round,
            )
            self._held[name] = _Held(claim, retrainer.start())
            claimed.append(name)
            self._say(f"training {name}")
        return claimed

    def run(self, stop: threading.Event) -> None:
        """:meth:`step` every ``claim_seconds`` until ``stop`` is set, then :meth:`close`."""
        try:
            while not stop.is_set():
                try:
                    self.step()
                except Exception as exc:  # the database away for a moment: try again
                    logger.exception("claiming projects failed")
                    self._say(f"error {type(exc).__name__}: {exc}".splitlines()[0])
                stop.wait(self.claim_seconds)
        finally:
            self.close()

    def close(self) -> None:
        """Stop every trainer (a round under way finishes first) and release the claims."""
        for name, held in list(self._held.items()):
            held.retrainer.stop()
            held.claim.release()
            del self._held[name]
            self._say(f"released {name}")
