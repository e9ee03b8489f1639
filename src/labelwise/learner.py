"""``ActiveLearner``: active learning inside your own code (cf. modAL), a face over the round
engine (:class:`labelwise.loop.RoundEngine`).

Query the pool, have the oracle label what was picked, teach it back, repeat::

    learner = ActiveLearner(SklearnModel(LogisticRegression()), "margin", X_seed, y_seed)
    picked = learner.query(X_pool, batch_size=10, rng=0)   # positions in X_pool
    learner.teach(X_pool[picked], oracle(picked))          # appends and refits
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.loop import ColdStart, RoundEngine, RoundResult
from labelwise.loop.diversity import Diversity
from labelwise.models._labels import check_targets, n_rows
from labelwise.models.base import Model
from labelwise.strategies import Selection, Strategy


def _append(old: Any, new: Any) -> Any:
    """Rows of ``new`` after those of ``old`` (arrays, tensors, DataFrames or lists)."""
    if old is None:
        return new if not isinstance(new, tuple) else list(new)
    if isinstance(old, list):
        return old + list(new)
    if hasattr(old, "iloc"):  # a pandas DataFrame or Series
        import pandas as pd

        return pd.concat([old, new], ignore_index=True)
    if type(old).__module__.startswith("torch"):
        import torch

        return torch.cat([old, torch.as_tensor(new, dtype=old.dtype)])
    if hasattr(old, "tocsr"):  # a SciPy sparse matrix
        import scipy.sparse as sp

        return sp.vstack([old, new]).tocsr()
    return np.concatenate([np.asarray(old), np.asarray(new)])


class ActiveLearner:
    """A model, a strategy and the labeled set: ``query`` -> oracle -> ``teach`` -> repeat.

    Parameters
    ----------
    model : a labelwise model (:class:`~labelwise.models.SklearnModel`, ``TorchModel``, ...)
    strategy : registry name (``"margin"``, ``"bald"``, ...) or a :class:`Strategy` object
    X_labeled, y_labeled : the seed set, optional; when given the model is fitted on it at once
    n_samples : MC samples drawn for strategies that need ``samples`` (a committee answers
        with its members)
    cold_start : how to choose before the model has seen two classes: ``"kmeans"`` (one
        representative per cluster of the features) or ``"random"``
    diversity : ``"auto"`` (default: batches of 50 or more from a pure uncertainty strategy are
        spread out by k-means over the model's embeddings, :mod:`labelwise.loop.diversity`),
        ``"on"`` (every batch) or ``"off"`` (plain top-k)

    Only what the strategy declared it needs is computed for the pool (probabilities, MC samples,
    embeddings...). A strategy the model cannot serve is refused when the features are first
    seen, naming what is missing. Before any label, every strategy starts cold.
    """

    def __init__(
        self,
        model: Model,
        strategy: str | Strategy = "margin",
        X_labeled: Any = None,
        y_labeled: ArrayLike | None = None,
        n_samples: int = 20,
        cold_start: ColdStart = "kmeans",
        diversity: Diversity = "auto",
    ):
        self.engine = RoundEngine(
            model, strategy, n_samples=n_samples, cold_start=cold_start, diversity=diversity
        )
        self._X: Any = None
        self._y: NDArray[Any] | None = None
        if (X_labeled is None) != (y_labeled is None):
            raise InvalidInputError("give both X_labeled and y_labeled, or neither")
        if X_labeled is not None and y_labeled is not None:
            self.teach(X_labeled, y_labeled)

    @property
    def model(self) -> Model:
        """The model adapter the engine fits."""
        return self.engine.model

    @property
    def strategy(self) -> Strategy:
        """The acquisition strategy."""
        return self.engine.strategy

    @property
    def n_samples(self) -> int:
        """MC samples asked of models that sample."""
        return self.engine.n_samples

    @property
    def X_labeled(self) -> Any:
        """The features of every item taught so far (None before the first ``teach``)."""
        return self._X

    @property
    def y_labeled(self) -> NDArray[Any]:
        """The labels taught so far, in teaching order."""
        return np.array([]) if self._y is None else self._y

    def teach(self, X: Any, y: ArrayLike, refit: bool = True) -> ActiveLearner:
        """Add labeled items to the labeled set and, with ``refit``, fit the model on all of it."""
        labels = check_targets(y, n_rows(X), self.engine.task)
        self._X = _append(self._X, X)
        self._y = labels.copy() if self._y is None else np.concatenate([self._y, labels])
        if refit:
            self.fit()
        return self

    def fit(self) -> ActiveLearner:
        """Fit the model on the whole labeled set (warm start where the model keeps it)."""
        if self._y is None:
            raise InvalidInputError("the labeled set is empty: teach some labels first")
        self.engine.fit(self._X, self._y)
        return self

    def query_round(
        self,
        X_pool: Any,
        batch_size: int,
        rng: np.random.Generator | int | None = None,
        exclude: ArrayLike | None = None,
    ) -> RoundResult:
        """The engine's whole answer: picks, their scores, the pool's scores where the strategy
        scores items, whether it started cold, the model version and the step timings."""
        return self.engine.select(
            X_pool, batch_size, rng, exclude=exclude, X_labeled=self._X, y_labeled=self._y
        )

    def query_selection(
        self,
        X_pool: Any,
        batch_size: int,
        rng: np.random.Generator | int | None = None,
        exclude: ArrayLike | None = None,
    ) -> Selection:
        """Choose ``batch_size`` pool items: their positions in ``X_pool`` and their scores.

        ``exclude`` lists positions (or a boolean mask) never to pick, e.g. items already queued.
        """
        result = self.query_round(X_pool, batch_size, rng, exclude)
        return Selection(result.indices, result.scores, result.pool_scores)

    def query(
        self,
        X_pool: Any,
        batch_size: int,
        rng: np.random.Generator | int | None = None,
        exclude: ArrayLike | None = None,
    ) -> NDArray[np.intp]:
        """Positions in ``X_pool`` of the ``batch_size`` items to label next, best first."""
        return self.query_round(X_pool, batch_size, rng, exclude).indices

    def predict_proba(self, X: Any) -> NDArray[np.floating]:
        """The model's class probabilities, shape (N, C), columns in ``model.classes_`` order."""
        return self.model.predict_proba(X)

    def predict(self, X: Any) -> NDArray[Any]:
        """The most probable label of each item; a regressor's predictions; a multi-label
        model's predicted label sets (N, Q)."""
        if self.engine.task != "classification":
            return np.asarray(self.model.predict(X))  # type: ignore[attr-defined]
        return np.asarray(self.model.classes_)[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X: Any, y: ArrayLike) -> float:
        """Accuracy of :meth:`predict` on ``(X, y)`` (as scikit-learn: R2 for a regressor,
        subset accuracy for a multi-label model)."""
        labels = check_targets(y, n_rows(X), self.engine.task)
        predicted = self.predict(X)
        if self.engine.task == "regression":
            residual = float(((labels - predicted) ** 2).sum())
            total = float(((labels - labels.mean()) ** 2).sum())
            return 1.0 - residual / total if total > 0 else float(residual == 0.0)
        if self.engine.task == "multilabel":
            return float(np.mean((predicted == labels).all(axis=1)))
        return float(np.mean(predicted == labels))

    def __repr__(self) -> str:
        return (
            f"ActiveLearner({self.model!r}, strategy={self.strategy!r}, "
            f"n_labeled={len(self.y_labeled)})"
        )
