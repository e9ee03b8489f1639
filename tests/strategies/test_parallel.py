"""One way to run a kernel on several threads: ``n_jobs``, the same scores for any count."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.errors import InvalidInputError
from labelwise.strategies import (
    PoolInputs,
    bald,
    entropy,
    expected_entropy,
    get_strategy,
    least_confidence,
    margin,
    mean_std,
    ratio,
)
from labelwise.strategies.batchbald import greedy_batchbald
from labelwise.strategies.chunking import default_n_jobs, resolve_n_jobs


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("fn", [entropy, least_confidence, margin, ratio])
@pytest.mark.parametrize("kernel", ["auto", "numpy"])
def test_uncertainty_scores_are_identical_on_1_and_4_jobs(fn, kernel: str) -> None:  # type: ignore[no-untyped-def]
    p = softmax(np.random.default_rng(0).normal(size=(200_000, 8))).astype(np.float32)
    np.testing.assert_array_equal(fn(p, n_jobs=1, kernel=kernel), fn(p, n_jobs=4, kernel=kernel))


@pytest.mark.parametrize("fn", [bald, expected_entropy, mean_std])
def test_bayesian_scores_are_identical_on_1_and_4_jobs(fn) -> None:  # type: ignore[no-untyped-def]
    samples = softmax(np.random.default_rng(1).normal(size=(10, 30_000, 10)))  # 3M values
    if fn is mean_std:  # takes no n_jobs: its strategy threads it through score()
        strategy = get_strategy("mean_std")
        inputs = PoolInputs(samples=samples)
        np.testing.assert_array_equal(strategy.score(inputs, 1), strategy.score(inputs, 4))
        return
    np.testing.assert_array_equal(fn(samples, n_jobs=1), fn(samples, n_jobs=4))


def test_a_scoring_strategy_gives_the_same_selection_on_1_and_4_jobs() -> None:
    p = softmax(np.random.default_rng(2).normal(size=(100_000, 5)))
    one = get_strategy("entropy", n_jobs=1).select(PoolInputs(proba=p), 50)
    four = get_strategy("entropy", n_jobs=4).select(PoolInputs(proba=p), 50)
    np.testing.assert_array_equal(one.indices, four.indices)
    np.testing.assert_array_equal(one.pool_scores, four.pool_scores)


def test_batchbald_is_identical_on_1_and_4_jobs() -> None:
    samples = softmax(np.random.default_rng(3).normal(size=(8, 3_000, 6)) * 2)
    no = np.zeros(3_000, dtype=bool)
    one = greedy_batchbald(samples, 4, np.random.default_rng(0), no, n_jobs=1)
    four = greedy_batchbald(samples, 4, np.random.default_rng(0), no, n_jobs=4)
    np.testing.assert_array_equal(one[0], four[0])
    np.testing.assert_array_equal(one[1], four[1])


def test_n_jobs_defaults_to_the_cores_this_process_may_use() -> None:
    assert resolve_n_jobs(None) == default_n_jobs() >= 1
    assert resolve_n_jobs(3) == 3


def test_a_non_integer_n_jobs_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="n_jobs"):
        resolve_n_jobs(1.5)  # type: ignore[arg-type]
