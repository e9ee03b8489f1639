"""scikit-learn regressors as labelwise models: any regressor drops in, with bootstrap members.

:class:`SklearnRegressor` fits a clone of the estimator on the labeled set (``pred_mean``) and,
with ``n_bootstrap >= 2``, M more clones on bootstrap resamples of it (bagging, Breiman 1996):
their predictions are the ``pred_samples`` of predictive-variance sampling and the committee of
QBC and EMCM. A regressor whose ``predict`` takes ``return_std`` (``GaussianProcessRegressor``,
``BayesianRidge``, ``ARDRegression``) also supplies ``pred_std``.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone

from labelwise.errors import InvalidInputError
from labelwise.models._labels import check_targets, n_rows, require_fitted
from labelwise.models._members import check_n_samples
from labelwise.models.committee import take_rows
from labelwise.validation import check_rng

__all__ = ["SklearnRegressor", "takes_return_std"]


def takes_return_std(estimator: Any) -> bool:
    """Whether ``estimator.predict`` accepts ``return_std`` (a predictive standard deviation)."""
    try:
        return "return_std" in inspect.signature(estimator.predict).parameters
    except (TypeError, ValueError):
        return False


class SklearnRegressor:
    """Adapter for a scikit-learn regressor, with bootstrap members for the spread.

    ``fit`` trains a clone of ``estimator`` on the labeled set (the estimator passed in is never
    changed); the fitted clone is ``estimator_`` and its predictions are ``predict``. With
    ``n_bootstrap >= 2``, ``members_`` are that many clones, each fitted on its own resample of
    the labeled rows drawn with replacement; each ``fit`` draws new resamples from the
    adapter's generator (seeded by ``random_state``), so a run is repeatable.

    Parameters
    ----------
    estimator : scikit-learn regressor (anything with ``fit`` and ``predict``).
    n_bootstrap : bootstrap members (0: none, then no ``pred_samples`` / ``pred_committee``).
    random_state : seed or Generator for the resamples and the members' own ``random_state``.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> model = SklearnRegressor(LinearRegression(), n_bootstrap=3, random_state=0)
    >>> model.fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0]).predict([[3.0]]).round(6).tolist()
    [3.0]
    >>> model.sample_predict([[3.0]], 20).shape  # one row per member, whatever is asked
    (3, 1)
    """

    task: ClassVar[str] = "regression"

    estimator_: Any
    members_: list[Any]

    def __init__(
        self,
        estimator: Any,
        n_bootstrap: int = 10,
        random_state: np.random.Generator | int | None = None,
    ) -> None:
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
            raise InvalidInputError(
                f"{type(estimator).__name__} has no fit/predict: SklearnRegressor needs a "
                "scikit-learn regressor"
            )
        if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 0:
            raise InvalidInputError(f"n_bootstrap must be an int >= 0, got {n_bootstrap!r}")
        if n_bootstrap == 1:
            raise InvalidInputError(
                "n_bootstrap=1 gives a spread of zero: use 0 (no members) or at least 2"
            )
        self.estimator = estimator
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self._rng: np.random.Generator | None = None

    @property
    def supplies(self) -> frozenset[str]:
        """The strategy inputs this adapter computes (embeddings come from dense features)."""
        found = {"pred_mean", "labeled_targets"}
        if self.n_bootstrap >= 2:
            found |= {"pred_samples", "pred_committee"}
        if takes_return_std(self.estimator):
            found.add("pred_std")
        return frozenset(found)

    def fit(self, X: Any, y: ArrayLike) -> SklearnRegressor:
        """Train on the labeled set ``(X, y)`` (``y``: one finite number per row); return self."""
        n = n_rows(X)
        targets = check_targets(y, n, "regression")
        if self._rng is None:
            self._rng = check_rng(self.random_state)
        rng = self._rng
        self.estimator_ = self._clone(rng).fit(X, targets)
        members = []
        for _ in range(self.n_bootstrap):
            rows = rng.integers(0, n, size=n)
            members.append(self._clone(rng).fit(take_rows(X, rows), targets[rows]))
        self.members_ = members
        return self

    def _clone(self, rng: np.random.Generator) -> Any:
        estimator = clone(self.estimator)
        if "random_state" in estimator.get_params():
            estimator.set_params(random_state=int(rng.integers(2**31 - 1)))
        return estimator

    def predict(self, X: Any) -> NDArray[np.float64]:
        """Predictions of the model fitted on the whole labeled set, shape (N,)."""
        require_fitted(self, "estimator_")
        return np.asarray(self.estimator_.predict(X), dtype=np.float64).reshape(-1)

    def committee_predict(self, X: Any) -> NDArray[np.float64]:
        """Predictions of the bootstrap members, shape (M, N)."""
        require_fitted(self, "members_")
        if not self.members_:
            raise InvalidInputError(
                "this SklearnRegressor has no bootstrap members: set n_bootstrap >= 2 for "
                "predictive variance, QBC or EMCM"
            )
        return np.stack(
            [np.asarray(m.predict(X), dtype=np.float64).reshape(-1) for m in self.members_]
        )

    def sample_predict(
        self, X: Any, n_samples: int, rng: np.random.Generator | int | None = None
    ) -> NDArray[np.float64]:
        """The members as draws of the predictive distribution: shape (M, N) whatever
        ``n_samples`` is (as a committee's ``sample_proba``); ``rng`` is not used."""
        check_n_samples(n_samples)
        return self.committee_predict(X)

    def predict_std(self, X: Any) -> NDArray[np.float64]:
        """The estimator's predictive standard deviation, shape (N,) (``return_std=True``)."""
        require_fitted(self, "estimator_")
        if not takes_return_std(self.estimator_):
            raise InvalidInputError(
                f"{type(self.estimator_).__name__} gives no predictive standard deviation: use "
                "a GaussianProcessRegressor (or BayesianRidge) for gp_std"
            )
        _, std = self.estimator_.predict(X, return_std=True)
        return np.asarray(std, dtype=np.float64).reshape(-1)

    def __repr__(self) -> str:
        return (
            f"SklearnRegressor({self.estimator!r}, n_bootstrap={self.n_bootstrap!r}, "
            f"random_state={self.random_state!r})"
        )
