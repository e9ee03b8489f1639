"""From the round engine's choice to the ``score`` Label Studio's uncertainty sampling reads.

Label Studio hands out the task whose prediction has the **lowest** ``score`` first. The backend
asks the round engine (:class:`labelwise.loop.RoundEngine`) to rank the unlabeled tasks and
turns the ranking into scores in ``[0, 1]`` by rank, whatever the strategy:

* scoring strategies (margin, entropy, BALD...) score every task: the task ranked ``r``-th of
  ``n`` (best first) gets ``score = r / (n - 1)``; the most informative task gets 0;
* batch strategies (core-set, BADGE, BatchBALD, k-means...) choose ``batch_size`` tasks
  together: the chosen ones get ``r / (n - 1)`` in their order, every other task 1.0, until
  the next retrain chooses again;
* before the model has seen two classes the engine starts cold (k-means over the features):
  its picks first, the rest 1.0.

A task the last ranking did not cover (imported since) gets, from a scoring strategy, the rank
its own score would have had in that ranking (:meth:`Ranking.score_of`); from a batch strategy,
1.0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.loop import RoundEngine


@dataclass(frozen=True)
class Ranking:
    """The scores of one ranking of a project's unlabeled tasks.

    Attributes
    ----------
    model_version : the version of the model that ranked.
    scores : task id -> Label Studio score (0 = label first).
    reference : the strategy's scores of the ranked pool, ascending (None for batch strategies
        and cold starts), to place a task the ranking did not cover.
    strategy : the strategy that chose (the cold-start one before the model can rank).
    """

    model_version: str
    scores: dict[int, float]
    reference: NDArray[np.float64] | None = None
    strategy: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def score_of(self, task_id: int, strategy_score: float | None) -> float:
        """The task's score: ranked, placed by its strategy score, or 1.0."""
        held = self.scores.get(task_id)
        if held is not None:
            return held
        if strategy_score is None or self.reference is None or self.reference.size == 0:
            return 1.0
        n = self.reference.size
        above = n - int(np.searchsorted(self.reference, strategy_score, side="right"))
        return round(min(1.0, above / max(n - 1, 1)), 6)


def rank_scores(order: NDArray[np.intp], n: int) -> NDArray[np.float64]:
    """Scores by rank: ``order[r]`` (best first) gets ``r / (n - 1)``, unranked tasks 1.0.

    Examples
    --------
    >>> rank_scores(np.array([2, 0]), 4).tolist()
    [0.333333, 1.0, 0.0, 1.0]
    """
    scores = np.ones(n, dtype=np.float64)
    scores[order] = np.arange(order.size) / max(n - 1, 1)
    return np.round(scores, 6)


def rank_pool(
    engine: RoundEngine,
    task_ids: list[int],
    X_pool: Any,
    model_version: str,
    batch_size: int,
    rng: np.random.Generator,
) -> Ranking:
    """Rank the unlabeled tasks with one :meth:`RoundEngine.select`; see the module docstring."""
    n = len(task_ids)
    if n == 0:
        return Ranking(model_version, {}, None, engine.strategy.name)
    result = engine.select(X_pool, min(batch_size, n), rng)
    reference = None
    if result.pool_scores is not None:
        pool_scores = np.asarray(result.pool_scores, dtype=np.float64)
        order = np.argsort(-pool_scores, kind="stable").astype(np.intp)
        reference = np.sort(pool_scores)
    else:
        order = np.asarray(result.indices, dtype=np.intp)
    scores = rank_scores(order, n)
    return Ranking(
        model_version,
        {task_id: float(s) for task_id, s in zip(task_ids, scores, strict=True)},
        reference,
        result.strategy,
        dict(result.timings),
    )
