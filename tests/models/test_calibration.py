"""Temperature scaling (Guo et al. 2017), cross-fitted inside the model's own fit, and the
expected calibration error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import softmax
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from labelwise.errors import InvalidInputError, NotFittedError
from labelwise.models import SklearnModel
from labelwise.models.calibration import (
    TemperatureScaling,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
)
from tests.models.conftest import blobs


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

    def fit(self, X, y):
        self.classes_ = np.arange(self.proba.shape[1])
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


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (1,797 images, 10 classes), pixels scaled to [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def nll(proba: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the true classes, written out."""
    return float(-np.mean([np.log(max(proba[i, y[i]], 1e-300)) for i in range(len(y))]))


def test_the_wrapped_model_is_retrained_as_labels_grow() -> None:
    X, y = digits()
    order = np.random.default_rng(0).permutation(len(y))
    pool, test = order[:700], order[700:]
    seed_model = SklearnModel(GaussianNB()).fit(X[pool[:40]], y[pool[:40]])  # fitted already
    calibrated = TemperatureScaling(seed_model, random_state=0)
    accuracy = []
    for n in (40, 150, 700):  # one object refitted as the labeled set grows, as a learner does
        labeled = pool[:n]
        calibrated.fit(X[labeled], y[labeled])
        bare = SklearnModel(GaussianNB()).fit(X[labeled], y[labeled])
        predicted = calibrated.predict_proba(X[test]).argmax(axis=1)
        np.testing.assert_array_equal(predicted, bare.predict_proba(X[test]).argmax(axis=1))
        accuracy.append(float((calibrated.classes_[predicted] == y[test]).mean()))
    assert accuracy[0] + 0.1 < accuracy[1] < accuracy[2]  # 0.56, 0.77, 0.84


def test_the_temperature_comes_from_out_of_fold_predictions() -> None:
    # 50 features, 5 informative, 10% flipped labels: C=100 fits its training labels too well
    X, y = make_classification(300, 50, n_informative=5, flip_y=0.1, random_state=0)
    bare = SklearnModel(LogisticRegression(C=100.0, max_iter=5000)).fit(X[:150], y[:150])
    calibrated = TemperatureScaling(bare, random_state=0).fit(X[:150], y[:150])
    on_its_own_labels = fit_temperature(bare.predict_proba(X[:150]), y[:150])
    assert on_its_own_labels < 1  # what fitting T on the training labels gives: sharper still
    assert calibrated.temperature_ > 2  # held-out predictions show the overconfidence
    assert calibrated.fallback_reason_ is None
    held_out = bare.predict_proba(X[150:])
    assert nll(calibrated.predict_proba(X[150:]), y[150:]) < nll(held_out, y[150:])


@pytest.mark.parametrize(
    "estimator", [GaussianNB(), LogisticRegression(max_iter=2000)], ids=["naive_bayes", "logistic"]
)
def test_held_out_nll_on_digits_is_no_worse_than_uncalibrated(estimator) -> None:
    X, y = digits()
    order = np.random.default_rng(1).permutation(len(y))
    train, test = order[:400], order[400:]
    calibrated = TemperatureScaling(SklearnModel(estimator), random_state=0).fit(X[train], y[train])
    bare = SklearnModel(estimator).fit(X[train], y[train])
    assert nll(calibrated.predict_proba(X[test]), y[test]) <= nll(
        bare.predict_proba(X[test]), y[test]
    )


def test_an_overconfident_model_is_cooled_a_lot_on_digits() -> None:
    X, y = digits()
    order = np.random.default_rng(1).permutation(len(y))
    train, test = order[:400], order[400:]
    calibrated = TemperatureScaling(SklearnModel(GaussianNB()), random_state=0).fit(
        X[train], y[train]
    )
    bare = SklearnModel(GaussianNB()).fit(X[train], y[train])
    assert calibrated.temperature_ > 5
    assert nll(calibrated.predict_proba(X[test]), y[test]) < 0.2 * nll(
        bare.predict_proba(X[test]), y[test]
    )


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ([0, 1, 2], "3 labels are fewer than the 5 folds"),
        ([0, 0, 0, 1, 1, 1, 2], "class 2 has a single label"),
        ([1, 1, 1, 1, 1, 1], "a single class"),
    ],
)
def test_labels_too_few_to_cross_fit_leave_t_at_one_and_say_why(labels, reason) -> None:
    X, _ = blobs()
    y = np.array(labels)
    calibrated = TemperatureScaling(SklearnModel(LogisticRegression()), random_state=0)
    calibrated.fit(X[: len(y)], y)
    assert calibrated.temperature_ == 1.0
    assert reason in (calibrated.fallback_reason_ or "")
    bare = SklearnModel(LogisticRegression()).fit(X[: len(y)], y)
    np.testing.assert_allclose(calibrated.predict_proba(X), bare.predict_proba(X))


def test_out_of_fold_predictions_that_are_all_right_leave_t_at_one() -> None:
    X, y = blobs(60)  # clusters 6 standard deviations apart: every held-out item is right
    calibrated = TemperatureScaling(SklearnModel(LogisticRegression()), random_state=0).fit(X, y)
    assert calibrated.temperature_ == 1.0
    assert "every out-of-fold prediction was right" in (calibrated.fallback_reason_ or "")


def test_a_declared_label_space_wider_than_the_labels_keeps_its_columns() -> None:
    X, y = make_classification(200, 6, n_informative=4, n_classes=3, flip_y=0.2, random_state=2)
    model = SklearnModel(LogisticRegression(max_iter=1000), classes=[0, 1, 2, 3])
    calibrated = TemperatureScaling(model, n_folds=3, random_state=0).fit(X, y)
    proba = calibrated.predict_proba(X)
    assert proba.shape == (200, 4)
    assert calibrated.fallback_reason_ is None
    np.testing.assert_allclose(proba[:, 3], 0.0, atol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_the_model_passed_in_is_never_fitted_itself() -> None:
    X, y = blobs()
    model = SklearnModel(LogisticRegression())
    TemperatureScaling(model, random_state=0).fit(X, y)
    assert not hasattr(model, "estimator_")


def test_the_same_seed_gives_the_same_temperature() -> None:
    X, y = make_classification(120, 10, flip_y=0.2, random_state=3)

    def temperature(seed: int) -> float:
        model = SklearnModel(LogisticRegression(max_iter=1000))
        return TemperatureScaling(model, random_state=seed).fit(X, y).temperature_

    assert temperature(4) == temperature(4)


def test_fewer_than_two_folds_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="n_folds"):
        TemperatureScaling(SklearnModel(LogisticRegression()), n_folds=1)
