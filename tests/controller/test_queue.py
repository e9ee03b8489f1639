"""The queue's priorities from a round's ranking, checked by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from labelwise.controller.queue import finite_scores, ranking_priorities


def _ranking(scores: list[float], pool: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        indices=np.arange(len(scores)),
        scores=np.array(scores),
        pool_scores=np.array(scores) if pool else None,
    )


def test_scores_that_rank_are_the_priorities_else_the_rank() -> None:
    assert ranking_priorities(_ranking([0.9, 0.5, 0.1])) == [0.9, 0.5, 0.1]
    assert ranking_priorities(_ranking([0.1, 0.5, 0.9])) == [3.0, 2.0, 1.0]  # not descending
    assert ranking_priorities(_ranking([0.9, 0.5], pool=False)) == [2.0, 1.0]
    assert ranking_priorities(_ranking([np.inf, 0.5])) == [2.0, 1.0]
    assert ranking_priorities(None) == []


def test_finite_scores_bound_infinities_and_zero_nans() -> None:
    got = finite_scores(np.array([np.inf, -np.inf, np.nan, 1.5]))
    assert got[0] == np.finfo(np.float64).max and got[1] == -np.finfo(np.float64).max
    assert got[2] == 0.0 and got[3] == 1.5
