from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import InvalidInputError
from labelwise.strategies import VariableUncertainty
from labelwise.stream import RandomLabeling, StreamItem, StreamSelector, TimeWindowBudget
from labelwise.stream.scoring import labelstudio_score, uncertainty


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@given(
    st.integers(1, 5),
    st.floats(1.0, 50.0),
    st.lists(st.floats(0.0, 20.0), min_size=1, max_size=80),
)
@settings(max_examples=60, deadline=None)
def test_time_budget_is_exact_in_every_sliding_window(
    max_labels: int, seconds: float, gaps: list[float]
) -> None:
    clock = Clock()
    budget = TimeWindowBudget(max_labels, seconds, clock=clock)
    times: list[float] = []
    for gap in gaps:
        clock.now += gap
        if budget.allows():
            budget.record()
            times.append(clock.now)
    for start in times:  # slow reference: count labels in each window that opens at a label
        assert sum(start <= t < start + seconds for t in times) <= max_labels


def test_time_budget_allows_again_once_the_window_has_passed() -> None:
    clock = Clock()
    budget = TimeWindowBudget(2, 10.0, clock=clock)
    budget.record()
    budget.record()
    assert not budget.allows()
    clock.now = 9.99
    assert not budget.allows()
    clock.now = 10.0
    assert budget.allows()


@pytest.mark.parametrize(("labels", "seconds"), [(0, 1.0), (1, 0.0), (1, math.inf), (True, 1.0)])
def test_time_budget_refuses_bad_settings(labels: int, seconds: float) -> None:
    with pytest.raises(InvalidInputError):
        TimeWindowBudget(labels, seconds)


@given(st.floats(0.05, 1.0), st.integers(10, 60), st.integers(0, 2**16))
@settings(max_examples=40, deadline=None)
def test_random_labeling_keeps_the_window_budget(budget: float, window: int, seed: int) -> None:
    if math.floor(budget * window) < 1:
        return
    rule = RandomLabeling(budget, window, rng=seed)
    asked = rule.decide_many(np.zeros(300))
    cap = math.floor(budget * window)
    for start in range(300):
        assert asked[start : start + window].sum() <= cap


def test_random_labeling_is_determined_by_its_seed() -> None:
    first = RandomLabeling(0.3, rng=5).decide_many(np.zeros(100))
    second = RandomLabeling(0.3, rng=5).decide_many(np.zeros(100))
    assert np.array_equal(first, second)
    assert 10 < first.sum() <= 30


def test_uncertainties_match_their_formulas() -> None:
    p = np.array([[0.5, 0.5, 0.0], [0.7, 0.2, 0.1], [1.0, 0.0, 0.0]])
    expected_lc = [(1 - 0.5) * 1.5, (1 - 0.7) * 1.5, 0.0]
    assert uncertainty(p, "least_confidence") == pytest.approx(expected_lc)
    assert uncertainty(p, "margin") == pytest.approx([1.0, 0.5, 0.0])
    h = -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1)) / math.log(3)
    assert uncertainty(p, "entropy") == pytest.approx([math.log(2) / math.log(3), h, 0.0])
    assert labelstudio_score(p) == pytest.approx([1 - v for v in expected_lc])
    with pytest.raises(InvalidInputError, match="kind"):
        uncertainty(p, "bald")  # type: ignore[arg-type]


def test_selector_asks_everything_until_two_classes_were_seen() -> None:
    rule = VariableUncertainty(budget=1.0, initial_threshold=0.5)
    selector = StreamSelector(["neg", "pos"], rule)
    first = selector.offer(StreamItem("1", text="good"))
    assert first.asked and first.uncertainty == 1.0
    selector.teach(StreamItem("1", text="good"), "pos")
    assert selector.offer(StreamItem("2", text="good")).uncertainty == 1.0
    selector.teach(StreamItem("3", text="bad"), "neg")
    assert selector.offer(StreamItem("4", text="good good")).uncertainty < 1.0


def test_selector_respects_the_time_budget_before_the_rule() -> None:
    clock = Clock()
    rule = VariableUncertainty(budget=1.0)
    selector = StreamSelector(["a", "b"], rule, time_budget=TimeWindowBudget(1, 60.0, clock))
    assert selector.offer(StreamItem("1", text="x")).asked
    skipped = selector.offer(StreamItem("2", text="y"))
    assert not skipped.asked and skipped.reason == "time budget"
    assert rule.n_seen == 1  # the rule never saw the skipped item


def test_selector_refits_every_n_answers_and_refuses_unknown_labels() -> None:
    selector = StreamSelector(["a", "b"], VariableUncertainty(budget=1.0), refit_every=2)
    assert not selector.teach(StreamItem("1", text="x"), "a")
    assert selector.teach(StreamItem("2", text="y"), "b")
    assert selector.n_refits == 1
    with pytest.raises(InvalidInputError, match="not one of"):
        selector.teach(StreamItem("3", text="z"), "c")
