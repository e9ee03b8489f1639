"""scikit-learn estimators as labelwise models: any classifier with ``predict_proba`` drops in."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone
from sklearn.dummy import DummyClassifier

from labelwise.errors import InvalidInputError
from labelwise.models._labels import (
    check_classes,
    check_labels,
    encode_labels,
    n_rows,
    require_fitted,
)


class SklearnModel:
    """Adapter for a scikit-learn classifier with ``predict_proba``.

    ``fit`` trains a clone of ``estimator`` (the estimator passed in is never changed); the fitted
    clone is ``estimator_``. With ``classes`` the label space is fixed: probability columns always
    follow ``classes``, also while the labeled set lacks some of them (their columns are 0), and a
    label outside ``classes`` is refused. While the labeled set holds a single class the model
    predicts it with probability 1 (a ``DummyClassifier``), since most classifiers refuse to fit.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Anything with ``fit`` and ``predict_proba`` (a ``Pipeline`` too).
    classes : array-like of shape (C,), optional
        The full label space, in column order. Default: the labels seen by ``fit``, sorted.
    warm_start : bool
        Refit the same fitted clone on the next ``fit`` (its own ``warm_start=True`` is set when it
        has one, so e.g. ``LogisticRegression`` starts from its previous solution) instead of a
        fresh clone. A fresh clone is taken anyway when the set of seen classes changes.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = SklearnModel(LogisticRegression(), classes=[0, 1, 2])
    >>> model.fit([[0.0], [1.0]], [0, 1]).predict_proba([[0.5]]).shape
    (1, 3)
    """

    estimator_: Any
    classes_: NDArray[Any]
    seen_classes_: NDArray[Any]
    columns_: NDArray[np.intp]

    def __init__(self, estimator: Any, classes: ArrayLike | None = None, warm_start: bool = False):
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict_proba"):
            raise InvalidInputError(
                f"{type(estimator).__name__} has no fit/predict_proba: SklearnModel needs a "
                "probabilistic classifier (for SVC set probability=True)"
            )
        self.estimator = estimator
        self.classes = classes
        self.warm_start = warm_start

    def fit(self, X: Any, y: ArrayLike) -> SklearnModel:
        """Train on the labeled set ``(X, y)`` and return self."""
        labels = check_labels(y, n_rows(X))
        if self.classes is not None:
            classes = check_classes(self.classes)
            encode_labels(labels, classes)  # refuses labels outside the label space
        else:
            classes = np.unique(labels)
        seen = np.unique(labels)
        if seen.size < 2:
            estimator: Any = DummyClassifier(strategy="prior")
        elif self._reuse_fitted(seen):
            estimator = self.estimator_
        else:
            estimator = clone(self.estimator)
            if self.warm_start and "warm_start" in estimator.get_params():
                estimator.set_params(warm_start=True)
        estimator.fit(X, labels)
        self.estimator_ = estimator
        self.classes_ = classes
        self.seen_classes_ = seen
        self.columns_ = encode_labels(np.asarray(estimator.classes_), classes)
        return self

    def _reuse_fitted(self, seen: NDArray[Any]) -> bool:
        return (
            self.warm_start
            and hasattr(self, "estimator_")
            and not isinstance(self.estimator_, DummyClassifier)
            and np.array_equal(self.seen_classes_, seen)
        )

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Class probabilities of shape (N, C), columns in the order of ``classes_``."""
        require_fitted(self, "estimator_")
        raw = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        if raw.shape[1] == self.classes_.size and np.array_equal(
            self.columns_, np.arange(self.classes_.size)
        ):
            return raw
        proba = np.zeros((raw.shape[0], self.classes_.size), dtype=np.float64)
        proba[:, self.columns_] = raw
        return proba

    def __repr__(self) -> str:
        return (
            f"SklearnModel({self.estimator!r}, classes={self.classes!r}, "
            f"warm_start={self.warm_start!r})"
        )
