"""The round engine: the one active-learning round that every face of labelwise runs.

A round is: fit the model on the labeled set (warm start where the adapter keeps its state),
compute for the pool exactly the inputs the strategy declared, chunk by chunk, and select a
batch. ``ActiveLearner``, ``simulate``, streams, the annotation service's controller and the
Label Studio backend all call :class:`RoundEngine`; none keeps a fit/score/select loop of its own.

Cold start: until the labeled set holds two classes the model cannot rank anything, so the
engine selects with its cold-start strategy instead (k-means over the features: one
representative item per cluster, Zhu et al. 2008 / Hacohen et al. 2022's typical-items idea;
``random`` where the features are not a dense numeric matrix). Any strategy and any model
adapter therefore start cold through the engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.loop.capabilities import check_runnable
from labelwise.models._labels import check_labels, n_rows
from labelwise.models.base import Model
from labelwise.models.inputs import compute_inputs
from labelwise.strategies import PoolInputs, ScoringStrategy, Strategy, get_strategy
from labelwise.strategies.chunking import DEFAULT_CHUNK_SIZE
from labelwise.strategies.validation import check_rng

__all__ = ["ColdStart", "RoundEngine", "RoundResult", "dense_numeric"]

ColdStart = Literal["kmeans", "random"]

#: Items a k-means cold start clusters at most (a random subset of a larger pool).
COLD_START_CANDIDATES = 20_000


@dataclass(frozen=True)
class RoundResult:
    """What one selection chose and measured.

    Attributes
    ----------
    indices : positions in the pool given to :meth:`RoundEngine.select`, best first.
    scores : the score of each chosen item when it was chosen (aligned with ``indices``).
    pool_scores : one score per pool item for scoring strategies (higher = label sooner), None
        for batch strategies, which rank only what they pick.
    strategy : the strategy that chose (the cold-start one before the model can rank).
    model_version : fits of the model so far (0: never fitted).
    cold : whether the cold-start strategy chose.
    timings : seconds per step: ``fit``, ``inputs``, ``select``.
    """

    indices: NDArray[np.intp]
    scores: NDArray[np.float64]
    pool_scores: NDArray[np.float64] | None
    strategy: str
    model_version: int
    cold: bool
    timings: dict[str, float] = field(default_factory=dict)


def dense_numeric(X: Any) -> bool:
    """Whether ``X`` is a dense matrix of numbers (rows may be images: any trailing shape)."""
    if X is None or hasattr(X, "tocsr") or isinstance(X, list | tuple):
        return False
    if type(X).__module__.startswith("torch"):
        return bool(X.is_floating_point()) and X.ndim >= 2
    if hasattr(X, "iloc"):  # a DataFrame: numeric only when every column is
        return X.ndim == 2 and all(np.dtype(dt).kind in "fiub" for dt in X.dtypes)
    dtype = getattr(X, "dtype", None)
    return dtype is not None and np.dtype(dtype).kind in "fiub" and np.ndim(X) >= 2


def _as_float_rows(X: Any) -> NDArray[np.float64]:
    if hasattr(X, "iloc"):
        X = X.to_numpy()
    if type(X).__module__.startswith("torch"):
        X = X.detach().cpu().numpy()
    array = np.asarray(X)
    return array.reshape(array.shape[0], -1).astype(np.float64, copy=False)


def _take(X: Any, rows: NDArray[np.intp]) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, list | tuple):
        return [X[i] for i in rows]
    return X[rows]


class RoundEngine:
    """A model and a strategy, and the round that joins them.

    Parameters
    ----------
    model : a labelwise model adapter (:class:`~labelwise.models.SklearnModel`,
        ``TorchModel``, :class:`~labelwise.models.BootstrapCommittee`...).
    strategy : a registry name or a :class:`~labelwise.strategies.Strategy`.
    n_samples : MC samples (or members) asked of models that sample; a committee answers with
        its members whatever the number.
    cold_start : how to choose before the model can rank (see the module docstring).
    chunk_size : pool rows computed at once.
    dense_features : whether the features fed to the model are a dense numeric matrix (then
        they stand in for embeddings); None: decided from the first features seen.

    The (strategy, model) pair is checked when the engine is built: a strategy whose inputs the
    model cannot supply is refused at once with what is missing, not in the middle of a round.
    """

    def __init__(
        self,
        model: Model,
        strategy: str | Strategy = "margin",
        *,
        n_samples: int = 20,
        cold_start: ColdStart = "kmeans",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        dense_features: bool | None = None,
    ) -> None:
        if not hasattr(model, "fit") or not hasattr(model, "predict_proba"):
            raise InvalidInputError(
                f"{type(model).__name__} is not a labelwise model: wrap scikit-learn estimators "
                "in SklearnModel and torch modules in TorchModel"
            )
        resolved = get_strategy(strategy) if isinstance(strategy, str) else strategy
        if not isinstance(resolved, Strategy):
            raise InvalidInputError(f"strategy must be a name or a Strategy, got {strategy!r}")
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
            raise InvalidInputError(f"n_samples must be a positive int, got {n_samples!r}")
        if cold_start not in ("kmeans", "random"):
            raise InvalidInputError(f"cold_start must be 'kmeans' or 'random', got {cold_start!r}")
        self.model = model
        self.strategy = resolved
        self.n_samples = n_samples
        self.cold_start = cold_start
        self.chunk_size = chunk_size
        self.dense_features = dense_features
        if dense_features is not None:
            check_runnable(resolved, model, dense_features=dense_features)
        self.version = 0
        self.n_classes_seen = 0
        self.fit_seconds = 0.0
        self._X_labeled: Any = None

    # -- fitting ------------------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        """Whether the model has been fitted at least once."""
        return self.version > 0

    @property
    def can_rank(self) -> bool:
        """Whether the model has seen two classes: before that the engine starts cold."""
        return self.n_classes_seen >= 2

    def _note_features(self, X: Any) -> None:
        if self.dense_features is None:
            self.dense_features = dense_numeric(X)
            check_runnable(self.strategy, self.model, dense_features=self.dense_features)

    def fit(self, X_labeled: Any, y_labeled: ArrayLike) -> int:
        """Fit the model on the whole labeled set; returns the new model version."""
        labels = check_labels(y_labeled, n_rows(X_labeled))
        if labels.size == 0:
            raise InvalidInputError("the labeled set is empty: there is nothing to fit on")
        self._note_features(X_labeled)
        t0 = time.perf_counter()
        self.model.fit(X_labeled, labels)
        self.fit_seconds = time.perf_counter() - t0
        self._X_labeled = X_labeled
        self.n_classes_seen = int(np.unique(labels).size)
        self.version += 1
        return self.version

    # -- what the strategy needs --------------------------------------------------------------
    def inputs(
        self,
        X_pool: Any,
        *,
        rng: np.random.Generator | int | None = None,
        exclude: ArrayLike | None = None,
        X_labeled: Any = None,
    ) -> PoolInputs:
        """The inputs the strategy declared, computed for ``X_pool`` by the fitted model."""
        self._note_features(X_pool)
        if self.strategy.needs and not self.fitted:
            raise InvalidInputError(
                f"strategy {self.strategy.name!r} needs a fitted model: fit on labels first"
            )
        return compute_inputs(
            self.model,
            X_pool,
            self.strategy.needs,
            X_labeled=self._X_labeled if X_labeled is None else X_labeled,
            n_samples=self.n_samples,
            exclude=exclude,
            wants=self.strategy.wants,
            rng=rng,
            chunk_size=self.chunk_size,
        )

    def scores(self, X_pool: Any, *, rng: np.random.Generator | int | None = None) -> Any:
        """One score per pool item (higher = label sooner); scoring strategies only."""
        if not isinstance(self.strategy, ScoringStrategy):
            raise InvalidInputError(
                f"strategy {self.strategy.name!r} chooses batches and gives no score per item"
            )
        return self.strategy.score(self.inputs(X_pool, rng=rng))

    # -- the round ----------------------------------------------------------------------------
    def select(
        self,
        X_pool: Any,
        batch_size: int,
        rng: np.random.Generator | int | None = None,
        *,
        exclude: ArrayLike | None = None,
        X_labeled: Any = None,
    ) -> RoundResult:
        """Choose ``batch_size`` pool items (positions in ``X_pool``), best first.

        ``exclude`` lists positions (or a boolean mask) never to pick. Before the model can rank
        (no fit, or one class seen) the cold-start strategy chooses.
        """
        generator = check_rng(rng)
        n_pool = n_rows(X_pool)
        if self.strategy.needs and not self.can_rank:
            return self._cold_select(X_pool, n_pool, batch_size, generator, exclude)
        t0 = time.perf_counter()
        inputs = self.inputs(X_pool, rng=generator, exclude=exclude, X_labeled=X_labeled)
        if not self.strategy.needs:
            inputs = PoolInputs(pool_size=n_pool, exclude=inputs.exclude)
        t1 = time.perf_counter()
        chosen = self.strategy.select(inputs, batch_size, generator)
        t2 = time.perf_counter()
        return RoundResult(
            np.asarray(chosen.indices, dtype=np.intp),
            np.asarray(chosen.scores, dtype=np.float64),
            chosen.pool_scores,
            self.strategy.name,
            self.version,
            cold=False,
            timings={"fit": self.fit_seconds, "inputs": t1 - t0, "select": t2 - t1},
        )

    def run_round(
        self,
        X_labeled: Any,
        y_labeled: ArrayLike,
        X_pool: Any,
        batch_size: int,
        rng: np.random.Generator | int | None = None,
        *,
        exclude: ArrayLike | None = None,
    ) -> RoundResult:
        """Fit on the labeled set (when it holds any label), then :meth:`select`."""
        if n_rows(X_labeled) > 0:
            self.fit(X_labeled, y_labeled)
        else:
            self.fit_seconds = 0.0
        return self.select(X_pool, batch_size, rng, exclude=exclude)

    def _cold_select(
        self,
        X_pool: Any,
        n_pool: int,
        batch_size: int,
        rng: np.random.Generator,
        exclude: ArrayLike | None,
    ) -> RoundResult:
        from labelwise.strategies.validation import check_batch_size, check_exclude

        t0 = time.perf_counter()
        mask = check_exclude(None if exclude is None else np.asarray(exclude), n_pool)
        open_rows = np.flatnonzero(~mask)
        check_batch_size(batch_size, open_rows.size)
        name: str = self.cold_start if dense_numeric(X_pool) else "random"
        if name == "kmeans" and batch_size < open_rows.size:
            if open_rows.size > COLD_START_CANDIDATES:
                open_rows = np.sort(rng.choice(open_rows, COLD_START_CANDIDATES, replace=False))
            features = _as_float_rows(_take(X_pool, open_rows))
            picked = get_strategy("kmeans").select(PoolInputs(embeddings=features), batch_size, rng)
            indices, scores = open_rows[picked.indices], picked.scores
        else:
            name = "random"
            indices = rng.permutation(open_rows)[:batch_size]
            scores = np.zeros(indices.size)
        t1 = time.perf_counter()
        return RoundResult(
            np.asarray(indices, dtype=np.intp),
            np.asarray(scores, dtype=np.float64),
            None,
            name,
            self.version,
            cold=True,
            timings={"fit": self.fit_seconds, "inputs": 0.0, "select": t1 - t0},
        )

    def __repr__(self) -> str:
        return (
            f"RoundEngine({self.model!r}, strategy={self.strategy.name!r}, version={self.version})"
        )
