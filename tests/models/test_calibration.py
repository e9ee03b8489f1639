"""Temperature scaling (Guo et al. 2017) and the expected calibration error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import softmax

from labelwise.errors import NotFittedError
from labelwise.models.calibration import (
    TemperatureScaling,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
)


def overconfident(n: int, factor: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(z) and a model that reports softmax(factor * z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4)) * 1.5
    true_p = softmax(z, axis=1)
    y = (true_p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)  # inverse-CDF draws
    return softmax(factor * z, axis=1), y


class FixedModel:
    """A 'fitted model' whose probabilities are given: the item's index is its only feature."""

    def __init__(self, proba: np.ndarray):
        self.proba = proba
        self.classes_ = np.arange(proba.shape[1])

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        return self.proba[np.asarray(X).ravel()]


def ece_reference(proba: np.ndarray, y: np.ndarray, n_bins: int) -> float:
    """Guo et al. (2017), eq. 3, one bin at a time: sum_b |B_b|/n |acc(B_b) - conf(B_b)|."""
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        members = [i for i in range(len(y)) if lo < proba[i].max() <= hi]  # max p >= 1/C > 0
        if members:
            acc = np.mean([proba[i].argmax() == y[i] for i in members])
            conf = np.mean([proba[i].max() for i in members])
            total += len(members) / len(y) * abs(acc - conf)
    return total


def test_fit_temperature_recovers_a_known_overconfidence_factor() -> None:
    proba, y = overconfident(20_000, factor=3.0)
    assert fit_temperature(proba, y) == pytest.approx(3.0, rel=0.08)


def test_a_calibrated_model_keeps_a_temperature_near_one() -> None:
    proba, y = overconfident(20_000, factor=1.0, seed=1)
    assert fit_temperature(proba, y) == pytest.approx(1.0, rel=0.08)


def test_temperature_scaling_lowers_ece_and_keeps_every_prediction() -> None:
    proba, y = overconfident(4_000, factor=3.0, seed=2)
    model = FixedModel(proba)
    val, test = np.arange(2_000), np.arange(2_000, 4_000)
    calibrated = TemperatureScaling(model).fit(val, y[val])
    before = expected_calibration_error(model.predict_proba(test), y[test])
    after = expected_calibration_error(calibrated.predict_proba(test), y[test])
    assert after < 0.5 * before
    np.testing.assert_array_equal(
        calibrated.predict_proba(test).argmax(1), model.predict_proba(test).argmax(1)
    )


def test_ece_matches_the_bin_by_bin_definition() -> None:
    proba, y = overconfident(500, factor=2.0, seed=3)
    for n_bins in (1, 5, 15):
        assert expected_calibration_error(proba, y, n_bins) == pytest.approx(
            ece_reference(proba, y, n_bins)
        )


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, (6, 3), elements=st.floats(-8, 8)),
    st.floats(0.05, 20),
)
def test_a_temperature_never_changes_the_argmax_and_rows_sum_to_one(logits, t) -> None:
    proba = softmax(logits, axis=1)
    scaled = apply_temperature(proba, t)
    np.testing.assert_allclose(scaled.sum(axis=1), 1.0)
    top = proba.max(axis=1, keepdims=True)
    clear = (np.sort(proba, axis=1)[:, -2:-1] < top * (1 - 1e-9)).ravel()  # no ties
    np.testing.assert_array_equal(scaled.argmax(1)[clear], proba.argmax(1)[clear])


def test_temperature_one_is_the_identity_and_a_hot_one_flattens() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]])
    np.testing.assert_allclose(apply_temperature(proba, 1.0), proba)
    np.testing.assert_allclose(apply_temperature(proba, 1e6), 1 / 3, atol=1e-5)


def test_predicting_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        TemperatureScaling(FixedModel(np.eye(2))).predict_proba([0])
