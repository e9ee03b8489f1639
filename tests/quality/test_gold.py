"""Gold questions: accuracy per annotator, flags, and vote weights that help majority vote."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import InvalidInputError
from labelwise.quality import (
    GoldReport,
    flag_annotators,
    gold_report,
    gold_weights,
    majority_vote,
)


def test_gold_report_counts_answers_and_hits_on_gold_items_only() -> None:
    rows = [(0, 0, 1), (0, 1, 0), (1, 0, 2), (1, 1, 2), (2, 0, 0), (2, 2, 1)]  # item 2: no gold
    report = gold_report(rows, gold_items=[0, 1], gold_labels=[1, 2], n_classes=3)
    np.testing.assert_array_equal(report.answered, [2, 2, 0])
    np.testing.assert_array_equal(report.correct, [2, 1, 0])
    np.testing.assert_allclose(report.accuracy, [1.0, 0.5, np.nan])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=40
    ),
    st.dictionaries(st.integers(0, 9), st.integers(0, 2), min_size=1, max_size=5),
)
def test_gold_report_matches_a_loop(rows: list, gold: dict[int, int]) -> None:
    report = gold_report(rows, list(gold), list(gold.values()), n_classes=3, n_annotators=4)
    for a in range(4):
        mine = [(i, label) for i, who, label in rows if who == a and i in gold]
        assert report.answered[a] == len(mine)
        assert report.correct[a] == sum(label == gold[i] for i, label in mine)


def test_flag_annotators_needs_enough_answers_under_the_threshold() -> None:
    report = GoldReport(answered=np.array([10, 10, 2, 0]), correct=np.array([9, 5, 0, 0]))
    np.testing.assert_array_equal(flag_annotators(report, 0.8), [False, True, True, False])
    np.testing.assert_array_equal(
        flag_annotators(report, 0.8, min_answered=5), [False, True, False, False]
    )


def test_gold_weights_follow_log_odds_and_vanish_at_chance() -> None:
    report = GoldReport(answered=np.array([0, 100, 100, 100]), correct=np.array([0, 95, 60, 20]))
    w = gold_weights(report, n_classes=3, prior_accuracy=0.7, prior_strength=2.0)
    assert w[0] == pytest.approx(math.log(2 * 0.7 / 0.3))  # no gold yet: the prior's weight
    q = (95 + 1.4) / 102
    assert w[1] == pytest.approx(math.log(2 * q / (1 - q)))
    assert w[1] > w[2] > 0
    assert w[3] == 0.0  # 20% on 3 classes is worse than chance


def test_gold_weights_rescue_majority_vote_from_a_colluding_pair() -> None:
    # Two careless annotators always say 0; one careful annotator is right 90% of the time.
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, size=400)
    careful = np.where(rng.random(400) < 0.9, truth, 1 - truth)
    rows = [(i, 0, careful[i]) for i in range(400)] + [
        (i, k, 0) for i in range(400) for k in (1, 2)
    ]
    gold = np.arange(50)
    report = gold_report(rows, gold, truth[gold], n_classes=2)
    weights = gold_weights(report, n_classes=2)
    plain = (majority_vote(rows, 2, rng=0) == truth).mean()
    weighted = (majority_vote(rows, 2, weights=weights, rng=0) == truth).mean()
    assert plain < 0.6 < 0.85 < weighted


@pytest.mark.parametrize(
    ("items", "labels", "message"),
    [([0, 0], [1, 1], "twice"), ([0], [3], "out-of-range"), ([0, 1], [1], "same length")],
)
def test_gold_report_refuses_bad_gold(items: list, labels: list, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        gold_report([(0, 0, 1)], items, labels, n_classes=3)


def test_gold_weights_and_flags_refuse_bad_settings() -> None:
    report = GoldReport(answered=np.array([1]), correct=np.array([1]))
    with pytest.raises(InvalidInputError, match="prior_accuracy"):
        gold_weights(report, n_classes=4, prior_accuracy=0.2)
    with pytest.raises(InvalidInputError, match="threshold"):
        flag_annotators(report, 1.5)
