"""Every sequence strategy obeys the selection contract; the registry builds them by name."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.errors import (
    BatchSizeError,
    InvalidInputError,
    MissingInputError,
    UnknownStrategyError,
)
from labelwise.spans.selection import (
    DEFAULT_SEQUENCE_STRATEGY,
    SequenceInputs,
    available_sequence_strategies,
    get_sequence_strategy,
)
from labelwise.spans.strategies import independent_path_log_proba, token_entropy


def pool(seed: int = 0, n: int = 30) -> SequenceInputs:
    rng = np.random.default_rng(seed)
    marginals = [rng.dirichlet(np.ones(3), size=int(rng.integers(1, 9))) for _ in range(n)]
    samples = [rng.dirichlet(np.ones(3), size=(4, m.shape[0])) for m in marginals]
    embeddings = rng.normal(size=(n, 5))
    return SequenceInputs(
        marginals, independent_path_log_proba(marginals), samples, embeddings=embeddings
    )


@pytest.mark.parametrize("name", available_sequence_strategies())
def test_distinct_unexcluded_deterministic_indices(name: str) -> None:
    strategy = get_sequence_strategy(name)
    inputs = SequenceInputs(**{**pool().__dict__, "exclude": np.arange(5)})
    first = strategy.select(inputs, 10, rng=7)
    assert len(set(first.indices.tolist())) == 10
    assert not set(first.indices.tolist()) & set(range(5))
    np.testing.assert_array_equal(first.indices, strategy.select(inputs, 10, rng=7).indices)
    assert np.all(np.diff(first.scores) <= 0)


@pytest.mark.parametrize("name", available_sequence_strategies())
def test_batch_larger_than_the_pool_is_refused(name: str) -> None:
    with pytest.raises(BatchSizeError):
        get_sequence_strategy(name).select(pool(n=5), 6)


def test_token_entropy_picks_the_top_scores() -> None:
    inputs = pool()
    chosen = get_sequence_strategy("token_entropy", reduce="mean").select(inputs, 3)
    expected = np.argsort(-token_entropy(inputs.marginals, "mean"), kind="stable")[:3]  # type: ignore[arg-type]
    np.testing.assert_array_equal(chosen.indices, expected)


def test_missing_and_bad_inputs_are_named() -> None:
    with pytest.raises(MissingInputError, match="needs samples"):
        get_sequence_strategy("sequence_bald").select(SequenceInputs(marginals=[]), 1)
    bad = [np.array([[np.nan, 1.0]])]
    with pytest.raises(InvalidInputError, match="NaN"):
        get_sequence_strategy("token_entropy").select(SequenceInputs(marginals=bad), 1)
    with pytest.raises(UnknownStrategyError, match="known: "):
        get_sequence_strategy("nope")
    with pytest.raises(InvalidInputError, match="reduce"):
        get_sequence_strategy("token_entropy", reduce="median")
    assert DEFAULT_SEQUENCE_STRATEGY in available_sequence_strategies()
