"""The work of one shard: its top-k, and scores on one thread equal to the strategy's own."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.scale.tasks import shard_top_k
from labelwise.strategies import PoolInputs, get_strategy
from tests.scale.conftest import planted_proba


def sorted_reference(scores: np.ndarray, ids: np.ndarray, k: int) -> list[int]:
    """The k best ids by a plain sort on (score desc, id asc)."""
    return [i for _, i in sorted(zip((-scores).tolist(), ids.tolist(), strict=True))[:k]]


def test_shard_top_k_keeps_ties_ordered_by_id() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, size=50_000).astype(np.float64)  # thousands of equal scores
    ids = rng.permutation(10**6)[:50_000].astype(np.int64)
    got_ids, got_scores = shard_top_k(scores, ids, 1_000)
    assert got_ids.tolist() == sorted_reference(scores, ids, 1_000)
    assert np.all(np.diff(got_scores) <= 0)


def test_shard_top_k_of_fewer_rows_than_k_returns_them_all_sorted() -> None:
    ids, scores = shard_top_k(np.array([0.1, 0.5, 0.5]), np.array([9, 4, 2]), 10)
    assert ids.tolist() == [2, 4, 9]
    np.testing.assert_array_equal(scores, [0.5, 0.5, 0.1])


def test_shard_top_k_with_nan_scores_falls_back_to_the_full_sort() -> None:
    scores = np.array([np.nan, 0.3, 0.9, np.nan, 0.1])
    ids = np.arange(5, dtype=np.int64)
    assert shard_top_k(scores, ids, 2)[0].tolist() == [2, 1]  # NaN scores come last


@pytest.mark.parametrize("name", ["entropy", "margin", "least_confidence", "ratio"])
def test_one_thread_scores_equal_the_strategys_scores(name: str) -> None:
    proba = planted_proba(300_000, 4)  # large enough for the kernels' two threads
    strategy = get_strategy(name)
    inputs = PoolInputs(proba=proba)
    np.testing.assert_array_equal(
        strategy.score(inputs, n_threads=1),
        strategy.score(inputs),
    )


def test_one_thread_bald_equals_bald_on_samples() -> None:
    samples = np.random.default_rng(1).dirichlet(np.ones(4), size=(5, 30_000))
    strategy = get_strategy("bald")
    inputs = PoolInputs(samples=samples)
    np.testing.assert_array_equal(
        strategy.score(inputs, n_threads=1),
        strategy.score(inputs),
    )
