"""Temperature scaling (Guo, Pleiss, Sun & Weinberger 2017, "On Calibration of Modern Neural
Networks") and the expected calibration error that measures what it fixes.

A fitted model's probabilities ``p`` are rescaled as ``softmax(log p / T)`` with one temperature
``T > 0`` that minimises the negative log-likelihood on held-out data. ``T`` divides every logit of
a row alike, so the predicted class (the argmax) never changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from labelwise.errors import InvalidInputError
from labelwise.models._labels import check_labels, encode_labels, n_rows, require_fitted
from labelwise.models.base import Model
from labelwise.strategies._validation import check_proba

#: Search range of log T: T from about 0.007 to 150.
LOG_T_BOUNDS = (-5.0, 5.0)


def _log_proba(proba: NDArray[np.floating]) -> NDArray[np.float64]:
    return np.log(np.maximum(proba.astype(np.float64), np.finfo(np.float64).tiny))


def apply_temperature(proba: ArrayLike, temperature: float) -> NDArray[np.float64]:
    """``softmax(log p / T)`` row by row, shape (N, C); T = 1 returns ``p`` unchanged."""
    if not temperature > 0:
        raise InvalidInputError(f"temperature must be positive, got {temperature}")
    p = check_proba(proba)
    return np.exp(log_softmax(_log_proba(p) / temperature, axis=1))


def fit_temperature(proba: ArrayLike, y_index: ArrayLike) -> float:
    """The T > 0 that minimises ``NLL(T) = -mean_i log softmax(log p_i / T)[y_i]``.

    Parameters
    ----------
    proba : (N, C) held-out probabilities of the uncalibrated model
    y_index : (N,) column index of each item's true class

    The search runs over ``log T`` in :data:`LOG_T_BOUNDS` (bounded Brent).
    """
    logp = _log_proba(check_proba(proba))
    y = np.asarray(y_index, dtype=np.intp)
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return float(-log_softmax(logp / np.exp(log_t), axis=1)[rows, y].mean())

    result = minimize_scalar(nll, bounds=LOG_T_BOUNDS, method="bounded")
    return float(np.exp(result.x))


def expected_calibration_error(proba: ArrayLike, y_index: ArrayLike, n_bins: int = 15) -> float:
    """ECE (Naeini et al. 2015; Guo et al. 2017, eq. 3) over equal-width confidence bins.

    ``ECE = sum_b |B_b| / N * |acc(B_b) - conf(B_b)|``, with confidence the top probability and a
    bin ``B_b = {i : conf_i in ((b-1)/M, b/M]}``.
    """
    p = check_proba(proba)
    y = np.asarray(y_index)
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    gap = np.bincount(bins, correct - confidence, minlength=n_bins)
    return float(np.abs(gap).sum() / len(y))


class TemperatureScaling:
    """Wrap a fitted model and rescale its probabilities with one learned temperature.

    ``fit(X_val, y_val)`` fits only ``temperature_`` (the wrapped model is not retrained);
    ``predict_proba`` returns ``softmax(log p / T)``.

    Examples
    --------
    >>> calibrated = TemperatureScaling(model).fit(X_val, y_val)  # doctest: +SKIP
    >>> calibrated.temperature_ > 1  # an overconfident model is cooled  # doctest: +SKIP
    True
    """

    def __init__(self, model: Model):
        self.model = model

    def fit(self, X: Any, y: ArrayLike) -> TemperatureScaling:
        """Find the temperature minimising the NLL of held-out ``(X, y)``; return self."""
        labels = check_labels(y, n_rows(X))
        classes = np.asarray(self.model.classes_)
        self.temperature_ = fit_temperature(
            self.model.predict_proba(X), encode_labels(labels, classes)
        )
        self.classes_ = classes
        return self

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Calibrated probabilities of shape (N, C), columns in the order of ``classes_``."""
        require_fitted(self, "temperature_")
        return apply_temperature(self.model.predict_proba(X), self.temperature_)
