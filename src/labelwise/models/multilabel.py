"""scikit-learn classifiers as multi-label models: one probability per label (binary relevance).

:class:`SklearnMultilabel` wraps a binary classifier in scikit-learn's ``OneVsRestClassifier``
(one classifier per label) or ``MultiOutputClassifier``, or takes an estimator that handles a
label-indicator ``y`` itself (``KNeighborsClassifier``, ``RandomForestClassifier``,
``MLPClassifier``). Labels that are constant in the labeled set (early rounds) are predicted
with that constant and kept out of the fit, since most binary classifiers refuse one class.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier

from labelwise.errors import InvalidInputError
from labelwise.models._labels import check_targets, n_rows, require_fitted

__all__ = ["SklearnMultilabel", "Wrapper"]

Wrapper = Literal["one_vs_rest", "multi_output", "native"]


class SklearnMultilabel:
    """Adapter for multi-label classification with scikit-learn estimators.

    Parameters
    ----------
    estimator : a binary classifier with ``predict_proba`` (wrapped per ``wrapper``), or with
        ``wrapper="native"`` an estimator that fits a 0/1 indicator matrix itself.
    wrapper : ``"one_vs_rest"`` (``OneVsRestClassifier``), ``"multi_output"``
        (``MultiOutputClassifier``) or ``"native"``.
    threshold : probability from which a label is predicted.

    Attributes
    ----------
    estimator_ : the fitted wrapper (None while every label is constant).
    n_labels_ : Q, the number of labels (columns of ``y``).
    varying_ : (Q,) which labels took both values in the labeled set (those are fitted).
    constant_ : (Q,) the value of each constant label (unused where ``varying_``).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = SklearnMultilabel(LogisticRegression())
    >>> X = [[0.0], [1.0], [2.0], [3.0]]
    >>> model.fit(X, [[1, 0], [1, 0], [1, 1], [1, 1]]).predict_label_proba(X).shape
    (4, 2)
    """

    task: ClassVar[str] = "multilabel"
    supplies: ClassVar[frozenset[str]] = frozenset({"label_proba", "labeled_label_sets"})

    estimator_: Any
    n_labels_: int
    varying_: NDArray[np.bool_]
    constant_: NDArray[np.float64]

    def __init__(
        self, estimator: Any, wrapper: Wrapper = "one_vs_rest", threshold: float = 0.5
    ) -> None:
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict_proba"):
            raise InvalidInputError(
                f"{type(estimator).__name__} has no fit/predict_proba: SklearnMultilabel needs "
                "a probabilistic classifier"
            )
        if wrapper not in ("one_vs_rest", "multi_output", "native"):
            raise InvalidInputError(
                f"wrapper must be 'one_vs_rest', 'multi_output' or 'native', got {wrapper!r}"
            )
        if not 0.0 < threshold < 1.0:
            raise InvalidInputError(f"threshold must lie in (0, 1), got {threshold!r}")
        self.estimator = estimator
        self.wrapper = wrapper
        self.threshold = threshold

    def fit(self, X: Any, y: ArrayLike) -> SklearnMultilabel:
        """Train on ``(X, y)``, ``y`` a (N, Q) 0/1 label-indicator matrix; return self."""
        Y = check_targets(y, n_rows(X), "multilabel")
        varying = Y.min(axis=0) != Y.max(axis=0)
        self.n_labels_ = int(Y.shape[1])
        self.varying_ = varying
        self.constant_ = Y[0].astype(np.float64)
        self.estimator_ = None
        if varying.sum() == 1:  # one label to learn: a binary classifier of its own
            self.estimator_ = clone(self.estimator).fit(X, Y[:, varying][:, 0])
        elif varying.any():
            self.estimator_ = self._wrapped().fit(X, Y[:, varying])
        return self

    def _wrapped(self) -> Any:
        base = clone(self.estimator)
        if self.wrapper == "one_vs_rest":
            return OneVsRestClassifier(base)
        if self.wrapper == "multi_output":
            return MultiOutputClassifier(base)
        return base

    def predict_label_proba(self, X: Any) -> NDArray[np.float64]:
        """The probability that each label applies, shape (N, Q)."""
        require_fitted(self, "n_labels_")
        n = n_rows(X)
        proba = np.tile(self.constant_, (n, 1))
        if self.estimator_ is not None:
            proba[:, self.varying_] = self._positive_proba(X, int(self.varying_.sum()))
        return proba

    def _positive_proba(self, X: Any, q: int) -> NDArray[np.float64]:
        raw = self.estimator_.predict_proba(X)
        if isinstance(raw, list):  # one (N, 2) array per label (MultiOutput, forests, k-NN)
            classes = list(self.estimator_.classes_)
            return np.stack(
                [_positive_column(p, c) for p, c in zip(raw, classes, strict=True)], axis=1
            )
        arr = np.asarray(raw, dtype=np.float64)
        if q == 1:  # the binary classifier of the one varying label
            return _positive_column(arr, self.estimator_.classes_)[:, None]
        return arr

    def predict(self, X: Any) -> NDArray[np.int64]:
        """The predicted label sets: (N, Q) 0/1, 1 where the probability reaches ``threshold``."""
        return (self.predict_label_proba(X) >= self.threshold).astype(np.int64)

    def __repr__(self) -> str:
        return (
            f"SklearnMultilabel({self.estimator!r}, wrapper={self.wrapper!r}, "
            f"threshold={self.threshold!r})"
        )


def _positive_column(proba: ArrayLike, classes: ArrayLike) -> NDArray[np.float64]:
    """The column of class 1 in a binary classifier's (N, 2) probabilities."""
    position = int(np.flatnonzero(np.asarray(classes) == 1)[0])
    return np.asarray(proba, dtype=np.float64)[:, position]
