"""The task queue a round leaves behind, and its top-ups between rounds.

A round ranks ``2 x depth`` candidates (:class:`~labelwise.controller.Controller`);
:meth:`RankingQueue.requeue` queues the ranking's head, re-ranks what already waits by the new
pool scores and keeps the tail (and, beyond it, a random sample of the other candidates) as the
reserve that :meth:`RankingQueue.top_up` serves while the next round trains. With no reserve
left (before the first round, or a round slower than the team) a top-up queues random unlabeled
samples, so the queue never runs dry.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.controller.settings import LoopSettings
from labelwise.store import Store, enqueue, list_samples, queue_depth
from labelwise.store.samples import SampleSnapshot

__all__ = ["RankingQueue", "finite_scores", "ranking_priorities"]


def finite_scores(values: NDArray[Any]) -> NDArray[np.float64]:
    """Scores as finite floats for the store (an infinite distance becomes the largest float)."""
    return np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)


def ranking_priorities(result: Any) -> list[float]:
    """Queue priorities of a round's ranking, best first: the strategy's scores where they rank
    (higher = sooner), else the rank itself."""
    if result is None:
        return []
    n = int(result.indices.size)
    scores = np.asarray(result.scores, dtype=np.float64)
    ranked = n < 2 or bool(np.all(np.diff(scores) <= 0))
    if result.pool_scores is not None and ranked and np.isfinite(scores).all():
        return [float(v) for v in scores]
    return [float(n - k) for k in range(n)]


class RankingQueue:
    """A project's queue between rounds: the last ranking's unqueued tail, served on top-up."""

    def __init__(self, store: Store, project: str) -> None:
        self.store = store
        self.project = project
        self._lock = threading.Lock()
        self._reserve: deque[tuple[int, float]] = deque()  # (sample id, priority)
        self._reserve_round: int | None = None

    def depth(self, settings: LoopSettings) -> int:
        """Open tasks the queue should hold: ``batch_size`` + ``lookahead`` per active annotator."""
        found = queue_depth(self.store, self.project, active_seconds=settings.active_seconds)
        return settings.batch_size + settings.lookahead * found.active_annotators

    def top_up(self, settings: LoopSettings, *, actor: str) -> int:
        """Fill the queue to its depth from the reserve; tasks created (two indexed reads, and
        a write only when the queue is short)."""
        with self._lock:
            found = queue_depth(self.store, self.project, active_seconds=settings.active_seconds)
            short = settings.batch_size + settings.lookahead * found.active_annotators
            short -= found.open_tasks
            if short <= 0:
                return 0
            if not self._reserve:
                self._random_reserve(settings, short)
            created = 0
            while short > 0 and self._reserve:
                take = [self._reserve.popleft() for _ in range(min(short, len(self._reserve)))]
                made = enqueue(
                    self.store,
                    self.project,
                    [i for i, _ in take],
                    [p for _, p in take],
                    self._reserve_round,
                    actor=actor,
                    skip_unavailable=True,
                )
                created += made
                short -= made
            return created

    def _random_reserve(self, settings: LoopSettings, n: int) -> None:
        rng = np.random.default_rng([settings.seed, len(self._reserve), n])
        fresh = list_samples(self.store, self.project, split="pool", state="unlabeled")
        order = rng.permutation(len(fresh))[: 4 * n]
        self._reserve.extend((fresh[int(i)].id, -1.0) for i in order)
        self._reserve_round = None

    def requeue(
        self,
        picked_ids: list[int],
        priorities: list[float],
        candidates: SampleSnapshot,
        pool_scores: NDArray[Any] | None,
        depth: int,
        round_number: int,
        actor: str,
    ) -> int:
        """Queue the ranking's head; keep its tail for top-ups; re-rank what waits already."""
        head = list(zip(picked_ids[:depth], priorities[:depth], strict=True))
        tail = list(zip(picked_ids[depth:], priorities[depth:], strict=True))
        chosen = {i for i, _ in head}
        floor = min(priorities) - 1.0 if priorities else 0.0
        queued = np.flatnonzero(candidates.states == "queued").tolist()
        if pool_scores is not None:
            scores = finite_scores(pool_scores)
            waiting = [(int(candidates.ids[k]), float(scores[k])) for k in queued]
        else:
            waiting = [(int(candidates.ids[k]), floor) for k in queued]
        pairs = head + [(i, p) for i, p in waiting if i not in chosen]
        # beyond the ranking, a random sample of the other candidates, served last
        ranked = chosen | {i for i, _ in tail}
        unlabeled = candidates.ids[candidates.states == "unlabeled"]
        others = unlabeled[~np.isin(unlabeled, np.fromiter(ranked, dtype=np.int64))].tolist()
        rng = np.random.default_rng(round_number)
        extra = [others[int(k)] for k in rng.permutation(len(others))[: 2 * depth]]
        tail += [(i, floor - 1.0) for i in extra]
        with self._lock:
            created = enqueue(
                self.store,
                self.project,
                [i for i, _ in pairs],
                [p for _, p in pairs],
                round_number,
                actor=actor,
                skip_unavailable=True,
            )
            self._reserve = deque(tail)
            self._reserve_round = round_number
        return created
