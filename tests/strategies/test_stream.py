"""Stream rules: the budget is never exceeded, thresholds move as Zliobaite et al. 2014 say."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import InvalidInputError
from labelwise.strategies import FixedThreshold, RandomizedVariableUncertainty, VariableUncertainty
from labelwise.strategies.stream import BudgetedStream

scores_lists = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=400)
budgets = st.floats(0.01, 1.0)


def make_rule(kind: str, budget: float, window: int | None, seed: int) -> BudgetedStream:
    if kind == "fixed":
        return FixedThreshold(0.3, budget=budget, window=window)
    if kind == "variable":
        return VariableUncertainty(budget, window, initial_threshold=0.2, step=0.05)
    return RandomizedVariableUncertainty(budget, window, initial_threshold=0.2, step=0.05, rng=seed)


@settings(max_examples=150, deadline=None)
@given(
    scores_lists,
    budgets,
    st.integers(1, 60),
    st.sampled_from(["fixed", "variable", "randomized"]),
    st.integers(0, 100),
)
def test_window_budget_is_never_exceeded(
    scores: list[float], budget: float, window: int, kind: str, seed: int
) -> None:
    cap = math.floor(budget * window)
    if cap < 1:
        with pytest.raises(InvalidInputError, match="no item could ever be labeled"):
            make_rule(kind, budget, window, seed)
        return
    rule = make_rule(kind, budget, window, seed)
    decisions = [rule.decide(s) for s in scores]
    for end in range(1, len(decisions) + 1):  # every window of `window` consecutive items
        assert sum(decisions[max(0, end - window) : end]) <= cap
    assert rule.n_labeled == sum(decisions) and rule.n_seen == len(scores)


@settings(max_examples=150, deadline=None)
@given(
    scores_lists, budgets, st.sampled_from(["fixed", "variable", "randomized"]), st.integers(0, 9)
)
def test_running_budget_is_never_exceeded(
    scores: list[float], budget: float, kind: str, seed: int
) -> None:
    rule = make_rule(kind, budget, None, seed)
    labels = 0
    for seen, s in enumerate(scores, start=1):
        labels += rule.decide(s)
        assert labels <= budget * seen


def test_fixed_threshold_without_budget_is_the_plain_rule() -> None:
    rule = FixedThreshold(0.5)
    scores = np.random.default_rng(0).random(200)
    np.testing.assert_array_equal(rule.decide_many(scores), scores >= 0.5)


def test_fixed_threshold_spends_the_budget_on_the_first_uncertain_items() -> None:
    rule = FixedThreshold(0.5, budget=0.5, window=4)  # two labels in any 4 items
    assert rule.decide_many([0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.9]).tolist() == [
        True, True, False, False, True, False, True
    ]  # fmt: skip


def test_variable_uncertainty_threshold_dynamics() -> None:
    rule = VariableUncertainty(budget=1.0, initial_threshold=0.4, step=0.1)
    assert rule.decide(0.5)  # uncertain enough: label, raise the bar
    assert rule.threshold == pytest.approx(0.4 * 1.1)
    assert not rule.decide(0.2)  # not uncertain enough, budget allows: lower the bar
    assert rule.threshold == pytest.approx(0.4 * 1.1 * 0.9)
    assert rule.decide(0.4 * 1.1 * 0.9)  # at the bar counts as above it
    assert rule.threshold == pytest.approx(0.4 * 1.1 * 0.9 * 1.1)


def test_threshold_is_frozen_while_the_budget_is_spent() -> None:
    rule = VariableUncertainty(budget=0.5, window=2, initial_threshold=0.3, step=0.1)
    assert rule.decide(0.9)
    bar = rule.threshold
    assert not rule.decide(0.9)  # window full: skipped, no update
    assert rule.threshold == bar
    assert rule.decide(0.9)


def test_variable_uncertainty_labels_at_the_budget_rate() -> None:
    """After a while the adaptive threshold spends about the budget, not more."""
    rng = np.random.default_rng(1)
    rule = VariableUncertainty(budget=0.1, initial_threshold=0.5, step=0.01)
    decisions = rule.decide_many(rng.random(20_000))
    assert 0.08 <= decisions.mean() <= 0.1


def test_reset_forgets_the_stream() -> None:
    rule = VariableUncertainty(budget=0.3, window=10, initial_threshold=0.5)
    scores = np.random.default_rng(2).random(300)
    first = rule.decide_many(scores)
    rule.reset()
    assert (rule.n_seen, rule.n_labeled, rule.threshold) == (0, 0, 0.5)
    np.testing.assert_array_equal(rule.decide_many(scores), first)


def test_randomized_variant_is_deterministic_for_a_seed() -> None:
    scores = np.random.default_rng(3).random(500)
    a = RandomizedVariableUncertainty(0.2, 50, rng=7).decide_many(scores)
    b = RandomizedVariableUncertainty(0.2, 50, rng=7).decide_many(scores)
    c = RandomizedVariableUncertainty(0.2, 50, rng=8).decide_many(scores)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rule = RandomizedVariableUncertainty(0.2, 50, rng=np.random.default_rng(7))
    first = rule.decide_many(scores)
    rule.reset()
    np.testing.assert_array_equal(rule.decide_many(scores), first)
    np.testing.assert_array_equal(first, a)


def test_randomized_variant_sometimes_labels_below_the_threshold() -> None:
    rule = RandomizedVariableUncertainty(1.0, initial_threshold=0.5, step=1e-9, noise=1.0, rng=0)
    assert rule.decide_many(np.full(200, 0.3)).any()
    plain = VariableUncertainty(1.0, initial_threshold=0.5, step=1e-9)
    assert not plain.decide_many(np.full(200, 0.3)).any()


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: FixedThreshold(0.5, budget=1.5), "budget"),
        (lambda: FixedThreshold(0.5, budget=0.5, window=0), "window"),
        (lambda: FixedThreshold(0.5, window=10), "needs a budget"),
        (lambda: FixedThreshold(float("nan")), "threshold"),
        (lambda: VariableUncertainty(0.1, step=1.5), "step"),
        (lambda: VariableUncertainty(0.1, initial_threshold=0.0), "initial_threshold"),
        (lambda: RandomizedVariableUncertainty(0.1, noise=-1.0), "noise"),
    ],
)
def test_bad_parameters_are_refused(build: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        build()  # type: ignore[operator]


def test_non_finite_score_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="finite"):
        FixedThreshold(0.5).decide(float("nan"))
