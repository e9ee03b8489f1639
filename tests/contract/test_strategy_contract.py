"""The contract every registered strategy keeps, checked the day it lands (cf. sklearn's
``parametrize_with_checks``): distinct indices, no excluded index, determinism for a seed,
clear errors for NaN, unnormalised probabilities and batches larger than the pool."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from labelwise.errors import BatchSizeError, InvalidInputError
from labelwise.strategies import (
    INPUT_NAMES,
    PoolInputs,
    available_strategies,
    get_strategy,
    strategy_tasks,
)

N_POOL, N_CLASSES, DIM, K_SAMPLES, M_MEMBERS, N_LABELED = 60, 4, 5, 6, 3, 7
PROBA_INPUTS = ("proba", "samples", "committee_proba")


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def make_inputs(seed: int = 0, exclude: np.ndarray | None = None) -> PoolInputs:
    """Every input of every task type (classification, regression, multi-label) for one pool."""
    rng = np.random.default_rng(seed)
    samples = _softmax(rng.normal(size=(K_SAMPLES, N_POOL, N_CLASSES)) * 2)
    pred_samples = rng.normal(size=(K_SAMPLES, N_POOL))
    return PoolInputs(
        proba=samples.mean(axis=0),
        samples=samples,
        committee_proba=samples[:M_MEMBERS],
        embeddings=rng.normal(size=(N_POOL, DIM)),
        labeled_embeddings=rng.normal(size=(N_LABELED, DIM)),
        pred_mean=pred_samples.mean(axis=0),
        pred_samples=pred_samples,
        pred_committee=pred_samples[:M_MEMBERS],
        pred_std=pred_samples.std(axis=0),
        labeled_targets=rng.normal(size=N_LABELED),
        label_proba=rng.uniform(size=(N_POOL, N_CLASSES)),
        labeled_label_sets=rng.integers(0, 2, size=(N_LABELED, N_CLASSES)),
        exclude=exclude,
    )


STRATEGIES = available_strategies(task=None)  # every task type's strategies


@pytest.fixture(params=STRATEGIES)
def name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.parametrize("batch_size", [1, 7, 25])
def test_returns_batch_of_distinct_indices(name: str, batch_size: int) -> None:
    sel = get_strategy(name).select(make_inputs(), batch_size, rng=0)
    assert sel.indices.shape == (batch_size,)
    assert sel.indices.dtype.kind == "i"
    assert len(set(sel.indices.tolist())) == batch_size
    assert ((sel.indices >= 0) & (sel.indices < N_POOL)).all()
    assert sel.scores.shape == (batch_size,)


def test_never_returns_excluded_indices(name: str) -> None:
    exclude = np.arange(0, N_POOL, 2)
    sel = get_strategy(name).select(make_inputs(exclude=exclude), 20, rng=1)
    assert not set(sel.indices.tolist()) & set(exclude.tolist())


def test_can_take_every_remaining_item(name: str) -> None:
    exclude = np.arange(N_POOL - 5)
    sel = get_strategy(name).select(make_inputs(exclude=exclude), 5, rng=2)
    assert sorted(sel.indices.tolist()) == list(range(N_POOL - 5, N_POOL))


def test_deterministic_for_a_seed(name: str) -> None:
    a = get_strategy(name).select(make_inputs(), 10, rng=42)
    b = get_strategy(name).select(make_inputs(), 10, rng=42)
    np.testing.assert_array_equal(a.indices, b.indices)


def test_batch_larger_than_available_pool_is_refused(name: str) -> None:
    with pytest.raises(BatchSizeError, match="exceeds"):
        get_strategy(name).select(make_inputs(exclude=np.arange(10)), N_POOL - 9, rng=0)
    with pytest.raises(BatchSizeError):
        get_strategy(name).select(make_inputs(), 0, rng=0)


def test_nan_inputs_are_refused(name: str) -> None:
    strategy = get_strategy(name)
    float_needs = [n for n in sorted(strategy.needs) if n != "labeled_embeddings"]
    for input_name in float_needs:
        inputs = make_inputs()
        bad = np.array(getattr(inputs, input_name), dtype=float)
        bad[(0,) * (bad.ndim - 1) + (slice(None),)] = np.nan
        with pytest.raises(InvalidInputError):
            strategy.select(dataclasses.replace(inputs, **{input_name: bad}), 5, rng=0)


def test_unnormalised_probabilities_are_refused(name: str) -> None:
    strategy = get_strategy(name)
    for input_name in sorted(strategy.needs & set(PROBA_INPUTS)):
        inputs = make_inputs()
        bad = np.array(getattr(inputs, input_name), dtype=float) * 1.5
        with pytest.raises(InvalidInputError, match="sum to 1"):
            strategy.select(dataclasses.replace(inputs, **{input_name: bad}), 5, rng=0)


def test_missing_input_is_named(name: str) -> None:
    strategy = get_strategy(name)
    if not strategy.needs:
        pytest.skip("needs nothing")
    only_exclude = PoolInputs(pool_size=N_POOL)
    with pytest.raises(InvalidInputError):
        strategy.select(only_exclude, 3, rng=0)


def test_runs_on_exactly_what_it_declares(name: str) -> None:
    # The model adapter computes only the declared inputs: a strategy reading anything else
    # would fail here (its wants are optional and left out).
    strategy = get_strategy(name)
    full = make_inputs()
    declared = {n: getattr(full, n) for n in strategy.needs}
    sel = strategy.select(PoolInputs(pool_size=N_POOL, **declared), 6, rng=0)
    assert len(set(sel.indices.tolist())) == 6


def test_wants_are_optional_inputs_apart_from_needs(name: str) -> None:
    strategy = get_strategy(name)
    assert set(strategy.wants) <= set(INPUT_NAMES)
    assert not set(strategy.wants) & set(strategy.needs)


def test_serves_at_least_one_task_type(name: str) -> None:
    # Its needs fall within what some task type's models compute, or no model could serve it.
    assert strategy_tasks(get_strategy(name))


def test_random_selects_from_pool_inputs() -> None:
    sel = get_strategy("random").select(PoolInputs(pool_size=N_POOL, exclude=np.arange(50)), 10, 3)
    assert sorted(sel.indices.tolist()) == list(range(50, N_POOL))
    assert sel.scores.tolist() == [0.0] * 10


def test_random_refuses_a_bare_pool_size_with_what_to_pass() -> None:
    with pytest.raises(InvalidInputError, match="PoolInputs\\(pool_size=n\\)"):
        get_strategy("random").select(N_POOL, 3, rng=0)  # type: ignore[arg-type]
