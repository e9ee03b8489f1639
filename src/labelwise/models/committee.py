"""Committees for query-by-committee (Seung et al. 1992; Abe & Mamitsuka 1998).

A :class:`Committee` is a list of (possibly different) scikit-learn classifiers, each trained on
the labeled set; a :class:`BootstrapCommittee` is M clones of one classifier, each trained on its
own bootstrap resample (bagging, Breiman 1996). Their disagreement is what vote entropy and
KL-to-the-mean score; as posterior draws (``sample_proba``) the members feed BALD and BatchBALD.
Every member's probability columns follow the committee's ``classes_``, also when its training
rows lack a class (that column is then 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone

from labelwise.errors import InvalidInputError
from labelwise.models._labels import check_classes, check_labels, n_rows
from labelwise.models._members import MemberPredictions
from labelwise.models.sklearn import SklearnModel
from labelwise.validation import check_rng

__all__ = ["BootstrapCommittee", "Committee", "fit_members", "take_rows"]


def take_rows(X: Any, rows: NDArray[np.intp]) -> Any:
    """Rows of X for an array, a DataFrame or a plain sequence."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, list | tuple):
        return [X[i] for i in rows]
    return X[rows]


def fit_members(
    estimators: Sequence[Any],
    X: Any,
    y: ArrayLike,
    *,
    classes: ArrayLike | None,
    bootstrap: bool,
    random_state: np.random.Generator | int | None,
) -> list[SklearnModel]:
    """Fit one :class:`SklearnModel` per estimator (a clone of it) on ``(X, y)``.

    With ``bootstrap`` each member gets its own resample of n rows drawn with replacement. The
    label space is ``classes`` or, by default, every label in ``y``, for every member alike.
    ``random_state`` draws, per member in turn, the resample and a seed for the clone's own
    ``random_state`` parameter when it has one.
    """
    n = n_rows(X)
    labels = check_labels(y, n)
    space = check_classes(classes) if classes is not None else np.unique(labels)
    rng = check_rng(random_state)
    members = []
    for estimator in estimators:
        rows = rng.integers(0, n, size=n) if bootstrap else None
        member_estimator = clone(estimator)
        if "random_state" in member_estimator.get_params():
            member_estimator.set_params(random_state=int(rng.integers(2**31 - 1)))
        member = SklearnModel(member_estimator, classes=space)
        if rows is None:
            members.append(member.fit(X, labels))
        else:
            members.append(member.fit(take_rows(X, rows), labels[rows]))
    return members


def _check_estimator(estimator: Any) -> None:
    if not hasattr(estimator, "fit") or not hasattr(estimator, "predict_proba"):
        raise InvalidInputError(
            f"committee member {type(estimator).__name__} has no fit/predict_proba: members "
            "must be probabilistic classifiers (for SVC set probability=True)"
        )


class Committee(MemberPredictions):
    """A committee of different classifiers, one member per estimator in ``estimators``.

    ``predict_proba`` is the members' mean; ``committee_proba`` stacks them as (M, N, C) with
    M = ``len(estimators)``; ``sample_proba`` returns the same M members whatever number of
    samples is asked (see :meth:`MemberPredictions.sample_proba`).

    Parameters
    ----------
    estimators : sequence of scikit-learn classifiers with ``predict_proba``
        At least two; each member is a clone of one of them (the estimators passed in are never
        changed). Different model families disagree where the data leave the decision open.
    classes : array-like of shape (C,), optional
        The label space, in column order; default: the labels seen by ``fit``, sorted.
    bootstrap : bool
        Also train each member on its own bootstrap resample (bagging) instead of on all labels.
    random_state : int, numpy Generator or None
        Seeds the resamples and each member's own ``random_state`` parameter when it has one.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> committee = Committee([LogisticRegression(), DecisionTreeClassifier(), GaussianNB()])
    >>> X, y = [[0.0], [0.2], [0.8], [1.0]], [0, 0, 1, 1]
    >>> committee.fit(X, y).committee_proba([[0.5]]).shape
    (3, 1, 2)
    """

    members_: list[SklearnModel]
    classes_: NDArray[Any]

    def __init__(
        self,
        estimators: Sequence[Any],
        classes: ArrayLike | None = None,
        *,
        bootstrap: bool = False,
        random_state: np.random.Generator | int | None = None,
    ):
        if isinstance(estimators, str) or not isinstance(estimators, Sequence):
            raise InvalidInputError(
                f"estimators must be a list of classifiers, got {type(estimators).__name__}: "
                "for clones of one classifier use BootstrapCommittee(estimator, n_members)"
            )
        if len(estimators) < 2:
            raise InvalidInputError(
                f"a committee needs at least 2 estimators, got {len(estimators)}"
            )
        for estimator in estimators:
            _check_estimator(estimator)
        self.estimators = estimators
        self.classes = classes
        self.bootstrap = bootstrap
        self.random_state = random_state

    @property
    def n_members(self) -> int:
        """Committee size M: one member per estimator."""
        return len(self.estimators)

    def fit(self, X: Any, y: ArrayLike) -> Committee:
        """Fit every member on ``(X, y)`` (or its own resample of it) and return self."""
        self.members_ = fit_members(
            self.estimators,
            X,
            y,
            classes=self.classes,
            bootstrap=self.bootstrap,
            random_state=self.random_state,
        )
        self.classes_ = self.members_[0].classes_
        return self


class BootstrapCommittee(MemberPredictions):
    """A committee of ``n_members`` clones of ``estimator``, each fit on a bootstrap resample.

    ``predict_proba`` is the members' mean; ``committee_proba`` stacks them as (M, N, C);
    ``sample_proba`` returns the same M members whatever number of samples is asked (they are
    the committee's exchangeable posterior draws; see :meth:`MemberPredictions.sample_proba`).
    For a committee of different classifiers use :class:`Committee`.

    Parameters
    ----------
    estimator : scikit-learn classifier with ``predict_proba``
    n_members : int
        Committee size M (at least 2).
    classes : array-like of shape (C,), optional
        The label space; default: the labels seen by ``fit``. Members whose resample lacks a class
        give it probability 0.
    random_state : int, numpy Generator or None
        Seeds the resamples and each member's own ``random_state`` parameter when it has one.
    """

    #: What its ``sample_proba`` draws are (read by :func:`labelwise.loop.capabilities.
    #: pairing_warnings`): resampled clones, a weak posterior for BALD-family strategies.
    posterior_kind: ClassVar[str] = "bootstrap"
    members_: list[SklearnModel]
    classes_: NDArray[Any]

    def __init__(
        self,
        estimator: Any,
        n_members: int = 5,
        classes: ArrayLike | None = None,
        random_state: np.random.Generator | int | None = None,
    ):
        if isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 2:
            raise InvalidInputError(f"n_members must be an int of at least 2, got {n_members!r}")
        _check_estimator(estimator)
        self.estimator = estimator
        self.n_members = n_members
        self.classes = classes
        self.random_state = random_state

    def fit(self, X: Any, y: ArrayLike) -> BootstrapCommittee:
        """Fit every member on its own bootstrap resample of ``(X, y)`` and return self."""
        self.members_ = fit_members(
            [self.estimator] * self.n_members,
            X,
            y,
            classes=self.classes,
            bootstrap=True,
            random_state=self.random_state,
        )
        self.classes_ = self.members_[0].classes_
        return self
