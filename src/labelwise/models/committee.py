"""Bootstrap committees for query-by-committee (Seung et al. 1992; Abe & Mamitsuka 1998).

Each of M members is a clone of one estimator trained on a bootstrap resample of the labeled set
(bagging, Breiman 1996); their disagreement is what vote entropy and KL-to-the-mean score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone

from labelwise.errors import InvalidInputError
from labelwise.models._labels import check_classes, check_labels, n_rows
from labelwise.models._members import MemberPredictions
from labelwise.models.sklearn import SklearnModel
from labelwise.strategies._validation import check_rng


def _take(X: Any, rows: NDArray[np.intp]) -> Any:
    """Rows of X for an array, a DataFrame or a plain sequence."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, list | tuple):
        return [X[i] for i in rows]
    return X[rows]


class BootstrapCommittee(MemberPredictions):
    """A committee of ``n_members`` clones of ``estimator``, each fit on a bootstrap resample.

    ``predict_proba`` is the members' mean; ``committee_proba`` stacks them as (M, N, C);
    ``sample_proba(X, k)`` returns the first k members (they are exchangeable draws).

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
        self.estimator = estimator
        self.n_members = n_members
        self.classes = classes
        self.random_state = random_state

    def fit(self, X: Any, y: ArrayLike) -> BootstrapCommittee:
        """Fit every member on its own bootstrap resample of ``(X, y)`` and return self."""
        n = n_rows(X)
        labels = check_labels(y, n)
        classes = check_classes(self.classes) if self.classes is not None else np.unique(labels)
        rng = check_rng(self.random_state)
        members = []
        for _ in range(self.n_members):
            rows = rng.integers(0, n, size=n)
            estimator = clone(self.estimator)
            if "random_state" in estimator.get_params():
                estimator.set_params(random_state=int(rng.integers(2**31 - 1)))
            member = SklearnModel(estimator, classes=classes)
            members.append(member.fit(_take(X, rows), labels[rows]))
        self.members_ = members
        self.classes_ = members[0].classes_
        return self
