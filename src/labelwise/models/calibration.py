"""Temperature scaling (Guo, Pleiss, Sun & Weinberger 2017, "On Calibration of Modern Neural
Networks") and the expected calibration error that measures what it fixes.

A fitted model's probabilities ``p`` are rescaled as ``softmax(log p / T)`` with one temperature
``T > 0`` that minimises the negative log-likelihood on held-out data. ``T`` divides every logit of
a row alike, so the predicted class (the argmax) never changes.

In active learning every label goes into training, so there is no validation set to spare:
:class:`TemperatureScaling` finds held-out predictions by cross-fitting (k folds, each predicted
by a copy of the model trained on the other k - 1; cf. scikit-learn's ``CalibratedClassifierCV``
with ``ensemble=False``), fits ``T`` on them, and trains the model itself on all labels.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.model_selection import StratifiedKFold

from labelwise.errors import InvalidInputError
from labelwise.models._labels import check_labels, encode_labels, n_rows, require_fitted
from labelwise.models.base import Model
from labelwise.models.committee import take_rows
from labelwise.validation import check_proba, check_rng

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
    """A model whose probabilities are rescaled with one temperature fitted on held-out labels.

    ``fit(X, y)`` does two things with the same labels, as an active learner needs each round:

    1. **Cross-fitting** for the temperature: the labels are split into ``n_folds`` stratified
       folds; for each fold an unfitted copy of ``model`` is trained on the other folds and
       predicts the fold. ``temperature_`` minimises the NLL of these out-of-fold probabilities
       (:func:`fit_temperature`): the model is judged on labels it did not train on, so a model
       that is overconfident on new data is cooled (T > 1), never sharpened because it fits its
       own training labels.
    2. **The model on all labels**: ``model_`` (a copy of ``model`` made at the first fit and
       refitted at each later one, so the adapter's own warm start carries over) trains on
       every label, and ``predict_proba`` returns ``softmax(log p / T)`` of its probabilities.
       The predicted classes are those of the model fitted on the same labels (T > 0 keeps
       each row's argmax).

    A fit costs ``n_folds + 1`` fits of the model. Where cross-fitting has nothing to go on,
    ``temperature_`` is 1 (the model's own probabilities) and ``fallback_reason_`` says why:
    fewer labels than folds, a single class, a class with one label (some fold would train
    without it), or out-of-fold predictions that are all right (the NLL then falls all the
    way to T -> 0, which no data support). Otherwise ``fallback_reason_`` is None.

    Parameters
    ----------
    model : a labelwise model adapter (:class:`~labelwise.models.SklearnModel`, ``TorchModel``)
        Never changed itself. Its unfitted copies are shallow copies without the fitted state
        (the attributes ending in ``_``), so its parameters must not be changed by ``fit``.
    n_folds : int
        Folds of the cross-fitting, at least 2.
    random_state : int, numpy Generator or None
        Seeds the assignment of labels to folds.

    References
    ----------
    Guo, Pleiss, Sun & Weinberger (2017), "On Calibration of Modern Neural Networks", ICML.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from labelwise.models import SklearnModel
    >>> calibrated = TemperatureScaling(SklearnModel(LogisticRegression()), random_state=0)
    >>> calibrated.fit(X, y).temperature_  # doctest: +SKIP
    1.7
    """

    model_: Model
    classes_: NDArray[Any]
    temperature_: float
    fallback_reason_: str | None

    def __init__(
        self,
        model: Model,
        n_folds: int = 5,
        random_state: np.random.Generator | int | None = None,
    ):
        if isinstance(n_folds, bool) or not isinstance(n_folds, int) or n_folds < 2:
            raise InvalidInputError(f"n_folds must be an int of at least 2, got {n_folds!r}")
        self.model = model
        self.n_folds = n_folds
        self.random_state = random_state

    def fit(self, X: Any, y: ArrayLike) -> TemperatureScaling:
        """Train the model on all of ``(X, y)`` and the temperature on its out-of-fold
        predictions of the same labels; return self."""
        labels = check_labels(y, n_rows(X))
        if not hasattr(self, "model_"):
            self.model_ = unfitted_copy(self.model)
        self.model_.fit(X, labels)
        classes = np.asarray(self.model_.classes_)
        reason = self._cannot_cross_fit(labels)
        temperature = 1.0
        if reason is None:
            proba = self._out_of_fold_proba(X, labels, classes)
            codes = encode_labels(labels, classes)
            if proba is None:
                reason = "a fold trained without one of the classes"
            elif np.array_equal(proba.argmax(axis=1), codes):
                reason = "every out-of-fold prediction was right: no evidence for a temperature"
            else:
                temperature = fit_temperature(proba, codes)
        self.classes_ = classes
        self.temperature_ = temperature
        self.fallback_reason_ = None if reason is None else f"T = 1: {reason}"
        return self

    def _cannot_cross_fit(self, labels: NDArray[Any]) -> str | None:
        """Why these labels cannot be cross-fitted, or None when they can."""
        if labels.size < self.n_folds:
            return f"{labels.size} labels are fewer than the {self.n_folds} folds"
        values, counts = np.unique(labels, return_counts=True)
        if values.size < 2:
            return "the labels hold a single class"
        if counts.min() < 2:
            return f"class {values[counts.argmin()].item()!r} has a single label"
        return None

    def _out_of_fold_proba(
        self, X: Any, labels: NDArray[Any], classes: NDArray[Any]
    ) -> NDArray[np.float64] | None:
        """(N, C) probabilities of each row by a model fitted without its fold, columns in
        ``classes`` order; None when a fold's training part lacks a class of the labels."""
        seed = int(check_rng(self.random_state).integers(2**31 - 1))
        folds = StratifiedKFold(self.n_folds, shuffle=True, random_state=seed)
        seen = np.unique(labels)
        proba = np.zeros((labels.size, classes.size))
        with warnings.catch_warnings():  # a class with fewer labels than folds is fine here
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            splits = list(folds.split(np.zeros((labels.size, 1)), labels))
        for train, test in splits:
            if np.unique(labels[train]).size < seen.size:
                return None
            fold_model = unfitted_copy(self.model).fit(take_rows(X, train), labels[train])
            columns = encode_labels(np.asarray(fold_model.classes_), classes)
            proba[np.ix_(test, columns)] = fold_model.predict_proba(take_rows(X, test))
        return proba

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Calibrated probabilities of shape (N, C), columns in the order of ``classes_``."""
        require_fitted(self, "temperature_")
        proba = self.model_.predict_proba(X)
        if self.temperature_ == 1.0:  # the model's own (also for a model of a single class)
            return np.asarray(proba, dtype=np.float64)
        return apply_temperature(proba, self.temperature_)


def unfitted_copy(model: Model) -> Model:
    """A copy of ``model`` with its parameters and without its fitted state.

    The fitted state is, by the scikit-learn convention the adapters follow, the attributes whose
    names end in ``_``; the parameters are shared, since ``fit`` never changes them.
    """
    fresh = copy.copy(model)
    for name in [name for name in vars(fresh) if name.endswith("_") and not name.endswith("__")]:
        delattr(fresh, name)
    return fresh
