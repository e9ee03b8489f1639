"""The round engine: the one active-learning round that every face of labelwise runs.

A round is: fit the model on the labeled set (warm start where the adapter keeps its state),
compute for the pool exactly the inputs the strategy declared, chunk by chunk, and select a
batch. ``ActiveLearner``, ``simulate``, streams, the annotation service's controller and the
Label Studio backend all call :class:`RoundEngine`; none keeps a fit/score/select loop of its own.

Cold start: until the labeled set holds two classes the model cannot rank anything, so the
engine selects with its cold-start strategy instead (k-means over the standardised features:
one representative item per cluster, Zhu et al. 2008 / Hacohen et al. 2022's typical-items idea;
``random`` where the features are not a dense numeric matrix). Any strategy and any model
adapter therefore start cold through the engine.

Sequence labeling (``task = "sequence"`` models such as :class:`~labelwise.spans.CRFTagger`):
the pool is a list of token lists, the answers one list of tags per sequence, and the strategy
one of :func:`~labelwise.spans.selection.get_sequence_strategy`'s (their inputs are ragged, one
``(T_i, K)`` array per sequence, so they have a registry of their own); the round is the same.

Feedback: a strategy that learns from the labels its picks receive (``auto``,
:class:`~labelwise.strategies.auto.LearnsFromLabels`) is told, when the engine next fits, which
of its last picks came back labeled and with which label. The engine recognises them among the
labeled rows by their feature values, so no face passes anything extra.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.loop.capabilities import check_runnable, supplies
from labelwise.loop.diversity import Diversity, check_diversity, diverse_select, diversifies
from labelwise.models._labels import check_targets, n_rows
from labelwise.models.base import Model
from labelwise.models.inputs import compute_inputs, standardize
from labelwise.models.task_inputs import model_task
from labelwise.spans.inputs import SequenceModel, compute_sequence_inputs
from labelwise.spans.selection import SequenceInputs, SequenceStrategy, get_sequence_strategy
from labelwise.strategies import PoolInputs, ScoringStrategy, Strategy, get_strategy
from labelwise.strategies.auto import LearnsFromLabels
from labelwise.strategies.chunking import DEFAULT_CHUNK_SIZE
from labelwise.validation import check_rng

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
    strategy : the strategy that chose (the cold-start one before the model can rank;
        ``"auto:<arm>"`` when ``auto`` let one of its arms choose).
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


def _row_keys(X: Any) -> list[bytes]:
    """One key per row, equal for rows with equal feature values (float64 bytes or repr)."""
    if isinstance(X, list | tuple):
        return [repr(row).encode() for row in X]
    if hasattr(X, "tocsr"):  # a SciPy sparse matrix: each row's stored entries, never densified
        csr = X.tocsr(copy=True)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        csr.sort_indices()
        bounds = csr.indptr
        return [
            csr.indices[a:b].astype(np.int64).tobytes() + csr.data[a:b].astype(np.float64).tobytes()
            for a, b in pairwise(bounds.tolist())
        ]
    rows = np.ascontiguousarray(_as_float_rows(X), dtype=np.float64)
    return [row.tobytes() for row in rows]


def _resolve(model: Any, task: str, strategy: Any) -> Strategy | SequenceStrategy:
    """The strategy object for a model of ``task``, refused when the two cannot work together."""
    if task == "sequence":
        if not all(hasattr(model, m) for m in ("fit", "marginals", "best_path")):
            raise InvalidInputError(
                f"{type(model).__name__} says task 'sequence' but lacks fit, marginals or "
                "best_path (see labelwise.spans.CRFTagger)"
            )
        found = get_sequence_strategy(strategy) if isinstance(strategy, str) else strategy
        if not isinstance(found, SequenceStrategy):
            raise InvalidInputError(
                f"a sequence tagger needs a sequence strategy (a name of "
                f"labelwise.spans.available_sequence_strategies()), got {strategy!r}"
            )
        if "samples" in found.needs and not hasattr(model, "sample_marginals"):
            raise InvalidInputError(
                f"{found.name!r} needs sampled marginals, which {type(model).__name__} does not "
                "give: use a stochastic tagger (TorchTagger's MC Dropout)"
            )
        return found
    predicts = hasattr(model, "predict_proba") or task in ("regression", "multilabel")
    if not hasattr(model, "fit") or not predicts:
        raise InvalidInputError(
            f"{type(model).__name__} is not a labelwise model: wrap scikit-learn estimators "
            "in SklearnModel and torch modules in TorchModel"
        )
    resolved = get_strategy(strategy) if isinstance(strategy, str) else strategy
    if not isinstance(resolved, Strategy):
        raise InvalidInputError(f"strategy must be a name or a Strategy, got {strategy!r}")
    return resolved


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
        ``TorchModel``, :class:`~labelwise.models.BootstrapCommittee`..., or a sequence tagger
        such as :class:`~labelwise.spans.CRFTagger`).
    strategy : a registry name or a :class:`~labelwise.strategies.Strategy` (for a tagger: a
        sequence strategy's name or a :class:`~labelwise.spans.selection.SequenceStrategy`).
    n_samples : MC samples (or members) asked of models that sample; a committee answers with
        its members whatever the number.
    cold_start : how to choose before the model can rank (see the module docstring).
    chunk_size : pool rows computed at once.
    dense_features : whether the features fed to the model are a dense numeric matrix (then
        they stand in for embeddings); None: decided from the first features seen.
    diversity : ``"auto"`` (default) diversifies batches of 50 or more from a pure uncertainty
        strategy (:mod:`labelwise.loop.diversity`), ``"on"`` every batch, ``"off"`` none.

    The (strategy, model) pair is checked when the engine is built: a strategy whose inputs the
    model cannot supply is refused at once with what is missing, not in the middle of a round.
    """

    def __init__(
        self,
        model: Model | SequenceModel,
        strategy: str | Strategy | SequenceStrategy = "margin",
        *,
        n_samples: int = 20,
        cold_start: ColdStart = "kmeans",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        dense_features: bool | None = None,
        diversity: Diversity = "auto",
    ) -> None:
        task = model_task(model)
        self.diversity = check_diversity(diversity)
        resolved = _resolve(model, task, strategy)
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
            raise InvalidInputError(f"n_samples must be a positive int, got {n_samples!r}")
        if cold_start not in ("kmeans", "random"):
            raise InvalidInputError(f"cold_start must be 'kmeans' or 'random', got {cold_start!r}")
        self.model: Any = model
        self.task = task
        self.strategy: Any = resolved  # a Strategy, or a SequenceStrategy for a tagger
        self.n_samples = n_samples
        self.cold_start = cold_start
        self.chunk_size = chunk_size
        self.dense_features = dense_features
        if task == "sequence":
            self.dense_features = False  # token lists: the cold start is random
        elif dense_features is not None and isinstance(resolved, Strategy):
            check_runnable(resolved, model, dense_features=dense_features)
        self.version = 0
        self.n_classes_seen = 0
        self.fit_seconds = 0.0
        self._X_labeled: Any = None
        self._y_labeled: NDArray[Any] | None = None
        self._picked: tuple[list[bytes], NDArray[Any]] | None = None  # (row keys, classes)

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
        labels = check_targets(y_labeled, n_rows(X_labeled), self.task)
        if labels.size == 0:
            raise InvalidInputError("the labeled set is empty: there is nothing to fit on")
        self._note_features(X_labeled)
        self._feed_back(X_labeled, labels)
        t0 = time.perf_counter()
        self.model.fit(X_labeled, list(labels) if self.task == "sequence" else labels)
        self.fit_seconds = time.perf_counter() - t0
        self._X_labeled = X_labeled
        self._y_labeled = labels
        # distinct answers: classes, target values, label sets (rows) for multi-label, tags
        if self.task == "sequence":
            self.n_classes_seen = len({tag for tags in labels for tag in tags})
        else:
            self.n_classes_seen = int(
                np.unique(labels, axis=0 if labels.ndim == 2 else None).shape[0]
            )
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
        y_labeled: ArrayLike | None = None,
    ) -> PoolInputs | SequenceInputs:
        """The inputs the strategy declared, computed for ``X_pool`` by the fitted model.

        ``X_labeled`` / ``y_labeled`` replace the labeled set of the last fit (its answers are
        read by the regression and multi-label strategies that need them).
        """
        self._note_features(X_pool)
        if self.strategy.needs and not self.fitted:
            raise InvalidInputError(
                f"strategy {self.strategy.name!r} needs a fitted model: fit on labels first"
            )
        if self.task == "sequence":
            seed = int(check_rng(rng).integers(2**31)) if "samples" in self.strategy.needs else 0
            return compute_sequence_inputs(
                self.model, X_pool, frozenset(self.strategy.needs), exclude, self.n_samples, seed
            )
        return compute_inputs(
            self.model,
            X_pool,
            self.strategy.needs,
            X_labeled=self._X_labeled if X_labeled is None else X_labeled,
            y_labeled=self._y_labeled if y_labeled is None else y_labeled,
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
        inputs: Any = self.inputs(X_pool, rng=rng)
        return self.strategy.score(inputs)

    # -- the round ----------------------------------------------------------------------------
    def select(
        self,
        X_pool: Any,
        batch_size: int,
        rng: np.random.Generator | int | None = None,
        *,
        exclude: ArrayLike | None = None,
        X_labeled: Any = None,
        y_labeled: ArrayLike | None = None,
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
        inputs: Any = self.inputs(
            X_pool, rng=generator, exclude=exclude, X_labeled=X_labeled, y_labeled=y_labeled
        )
        if not self.strategy.needs and self.task == "sequence":
            lengths = np.array([len(words) for words in X_pool], dtype=np.intp)
            inputs = SequenceInputs(lengths=lengths, exclude=inputs.exclude)
        elif not self.strategy.needs:
            inputs = PoolInputs(pool_size=n_pool, exclude=inputs.exclude)
        t1 = time.perf_counter()
        if diversifies(self.strategy, batch_size, self.diversity, can_embed=self._can_embed()):
            chosen = diverse_select(
                self.strategy, inputs, self.model, X_pool, batch_size, generator, _take
            )
        else:
            chosen = self.strategy.select(inputs, batch_size, generator)
        t2 = time.perf_counter()
        name = self.strategy.name
        classes = getattr(self.model, "classes_", None)
        if isinstance(self.strategy, LearnsFromLabels) and classes is not None:
            keys = _row_keys(_take(X_pool, np.asarray(chosen.indices, dtype=np.intp)))
            self._picked = (keys, np.asarray(classes).copy())
            if self.strategy.last_choice is not None:
                name = f"{name}:{self.strategy.last_choice}"
        return RoundResult(
            np.asarray(chosen.indices, dtype=np.intp),
            np.asarray(chosen.scores, dtype=np.float64),
            chosen.pool_scores,
            name,
            self.version,
            cold=False,
            timings={"fit": self.fit_seconds, "inputs": t1 - t0, "select": t2 - t1},
        )

    def _can_embed(self) -> bool:
        return "embeddings" in supplies(self.model, dense_features=bool(self.dense_features))

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

    def _feed_back(self, X_labeled: Any, labels: NDArray[Any]) -> None:
        """Tell a learning strategy which of its last picks are now labeled, and how."""
        if (
            self._picked is None
            or not isinstance(self.strategy, LearnsFromLabels)
            or labels.ndim != 1  # one class per item: the feedback is about classes
        ):
            return
        keys, classes = self._picked
        self._picked = None
        label_of = dict(zip(_row_keys(X_labeled), labels.tolist(), strict=True))
        column = {c: j for j, c in enumerate(classes.tolist())}
        returned = [j for j, key in enumerate(keys) if key in label_of]
        columns = [column.get(label_of[keys[j]], -1) for j in returned]
        self.strategy.update(np.asarray(returned, dtype=np.intp), np.asarray(columns, np.intp))

    def _cold_select(
        self,
        X_pool: Any,
        n_pool: int,
        batch_size: int,
        rng: np.random.Generator,
        exclude: ArrayLike | None,
    ) -> RoundResult:
        from labelwise.validation import check_batch_size, check_exclude

        t0 = time.perf_counter()
        mask = check_exclude(None if exclude is None else np.asarray(exclude), n_pool)
        open_rows = np.flatnonzero(~mask)
        check_batch_size(batch_size, open_rows.size)
        name: str = self.cold_start if dense_numeric(X_pool) else "random"
        if name == "kmeans" and batch_size < open_rows.size:
            if open_rows.size > COLD_START_CANDIDATES:
                open_rows = np.sort(rng.choice(open_rows, COLD_START_CANDIDATES, replace=False))
            features = standardize(_as_float_rows(_take(X_pool, open_rows)))[0]
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
