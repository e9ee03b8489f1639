"""Round metrics against scikit-learn and a literal ECE loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score, recall_score

from labelwise.simulate.metrics import evaluate, expected_calibration_error


def _random_case(seed: int, n: int = 200, c: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)) * 2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, c, size=n)
    return proba, y


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_accuracy_f1_and_recall_agree_with_scikit_learn(seed: int) -> None:
    proba, y = _random_case(seed)
    pred = proba.argmax(axis=1)
    got = evaluate(proba, y)
    assert got["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert got["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))
    np.testing.assert_allclose(
        got["recall"], recall_score(y, pred, average=None, labels=range(4), zero_division=0)
    )


def _literal_ece(proba: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        members = [
            i
            for i in range(len(y))
            if lo < proba[i].max() <= hi or (b == 0 and proba[i].max() == 0)
        ]
        if members:
            acc = np.mean([proba[i].argmax() == y[i] for i in members])
            conf = np.mean([proba[i].max() for i in members])
            total += len(members) / len(y) * abs(acc - conf)
    return total


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_ece_matches_the_literal_definition(seed: int) -> None:
    proba, y = _random_case(seed)
    assert expected_calibration_error(proba, y) == pytest.approx(_literal_ece(proba, y))


def test_ece_by_hand() -> None:
    # two items at confidence 0.9 (bin 14), one right one wrong: |0.5 - 0.9| * 2/3;
    # one at 0.6 (bin 8), right: |1 - 0.6| * 1/3. ECE = 0.8/3 + 0.4/3 = 0.4
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6]])
    y = np.array([0, 1, 1])
    assert expected_calibration_error(proba, y) == pytest.approx(0.4)


def test_a_class_absent_from_the_test_set_has_nan_recall() -> None:
    proba = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]])
    got = evaluate(proba, np.array([0, 1]))
    assert np.isnan(got["recall"][2]) and got["accuracy"] == 1.0
