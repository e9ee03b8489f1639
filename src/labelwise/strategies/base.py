"""The one strategy protocol: declared inputs, ``select(inputs, batch_size, rng)``, a registry.

Every strategy, from entropy to BatchBALD, declares what it needs from the model (``needs``) and
returns a :class:`Selection` of distinct pool indices. Scoring strategies are also plain functions
over arrays (see :mod:`labelwise.strategies.uncertainty`), wrapped by :class:`ScoringStrategy`.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Literal, TypeVar, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError, MissingInputError, UnknownStrategyError
from labelwise.strategies.chunking import DEFAULT_CHUNK_SIZE, iter_chunks, score_in_chunks
from labelwise.strategies.target_validation import TARGET_CHECKS, check_target_shapes
from labelwise.strategies.topk import top_k_masked
from labelwise.validation import (
    check_batch_size,
    check_exclude,
    check_matrix,
    check_matrix_with_norms,
    check_proba,
    check_rng,
)

InputName = Literal[
    "proba",
    "samples",
    "committee_proba",
    "embeddings",
    "labeled_embeddings",
    "grad_embeddings",
    "pred_mean",
    "pred_samples",
    "pred_committee",
    "pred_std",
    "labeled_targets",
    "label_proba",
    "labeled_label_sets",
]
INPUT_NAMES: tuple[InputName, ...] = get_args(InputName)

#: The pool axis of each input (samples and committees stack models on axis 0).
POOL_AXIS: dict[str, int] = {
    "samples": 1,
    "committee_proba": 1,
    "pred_samples": 1,
    "pred_committee": 1,
}

#: Inputs about the labeled set, not the pool (their length is the labeled set's).
LABELED_INPUTS = frozenset({"labeled_embeddings", "labeled_targets", "labeled_label_sets"})

TaskType = Literal["classification", "regression", "multilabel"]
TASK_TYPES: tuple[TaskType, ...] = get_args(TaskType)

#: What a model of each task type can compute; a strategy serves the tasks whose inputs cover
#: its ``needs`` (random and the diversity strategies serve every task).
_FEATURES = ("embeddings", "labeled_embeddings")  # raw features stand in for embeddings
TASK_INPUTS: dict[str, frozenset[str]] = {
    "classification": frozenset(
        {"proba", "samples", "committee_proba", "grad_embeddings", *_FEATURES}
    ),
    "regression": frozenset(
        {"pred_mean", "pred_samples", "pred_committee", "pred_std", "labeled_targets", *_FEATURES}
    ),
    "multilabel": frozenset({"label_proba", "labeled_label_sets", *_FEATURES}),
}


@dataclass(frozen=True)
class PoolInputs:
    """What a model computed for the pool; each strategy reads only what it declared.

    Parameters
    ----------
    proba : (N, C) class probabilities of the pool.
    samples : (K, N, C) probabilities from K stochastic passes (MC Dropout) or ensemble members.
    committee_proba : (M, N, C) probabilities of M committee members (query-by-committee).
    embeddings : (N, d) pool embeddings (penultimate layer or raw features).
    labeled_embeddings : (L, d) embeddings of the labeled set (core-set distances).
    grad_embeddings : (N, D) explicit gradient embeddings (BADGE computes them implicitly from
        ``proba`` and ``embeddings`` when this is absent).
    pred_mean : (N,) a regressor's predictions for the pool.
    pred_samples : (K, N) predictions of K stochastic passes (MC Dropout), ensemble members or
        bootstrap models of a regressor.
    pred_committee : (M, N) predictions of M committee members (query-by-committee regression).
    pred_std : (N,) predictive standard deviation (a Gaussian process's ``return_std``).
    labeled_targets : (L,) the labeled set's regression targets, rows as ``labeled_embeddings``.
    label_proba : (N, Q) multi-label marginals: probability that each of Q labels applies.
    labeled_label_sets : (L, Q) the labeled set's 0/1 label-indicator rows (multi-label).
    exclude : pool indices, or a boolean mask of length N, that must never be selected
        (already labeled or queued).
    pool_size : N, for strategies that read no array (random); otherwise read off the arrays.
    """

    proba: NDArray[np.floating] | None = None
    samples: NDArray[np.floating] | None = None
    committee_proba: NDArray[np.floating] | None = None
    embeddings: NDArray[np.floating] | None = None
    labeled_embeddings: NDArray[np.floating] | None = None
    grad_embeddings: NDArray[np.floating] | None = None
    pred_mean: NDArray[np.floating] | None = None
    pred_samples: NDArray[np.floating] | None = None
    pred_committee: NDArray[np.floating] | None = None
    pred_std: NDArray[np.floating] | None = None
    labeled_targets: NDArray[np.floating] | None = None
    label_proba: NDArray[np.floating] | None = None
    labeled_label_sets: NDArray[Any] | None = None
    exclude: NDArray[Any] | None = None
    pool_size: int | None = None

    @property
    def n_pool(self) -> int:
        """Number of pool items, read off the first pool-sized input present."""
        not_pool = LABELED_INPUTS | {"exclude", "pool_size"}
        sizes = {
            f.name: np.shape(value)[POOL_AXIS.get(f.name, 0)]
            for f in fields(self)
            if f.name not in not_pool and (value := getattr(self, f.name)) is not None
        }
        if self.pool_size is not None:
            sizes["pool_size"] = int(self.pool_size)
        if not sizes:
            raise MissingInputError("PoolInputs holds no pool-sized array and no pool_size")
        if len(set(sizes.values())) != 1:
            raise InvalidInputError(
                f"pool inputs disagree on the pool size (rows per item): {sizes}"
            )
        return int(next(iter(sizes.values())))

    def require(self, needs: frozenset[str], strategy: str) -> None:
        """Raise a clear error when an input the strategy declared is missing."""
        missing = sorted(name for name in needs if getattr(self, name) is None)
        if missing:
            raise MissingInputError(f"strategy {strategy!r} needs {', '.join(missing)}")


#: Pool items a strategy must not select (a boolean mask over the pool).
Mask = NDArray[np.bool_]
Rng = np.random.Generator


@dataclass(frozen=True)
class Selection:
    """A batch chosen from the pool: distinct indices and the score each had when chosen.

    ``pool_scores`` holds every pool item's score when the strategy scores items one by one
    (a :class:`ScoringStrategy`), so a caller can rank beyond the batch without scoring again.
    """

    indices: NDArray[np.intp]
    scores: NDArray[np.float64]
    pool_scores: NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return int(self.indices.size)


class Strategy(ABC):
    """A batch acquisition strategy: ``select(inputs, batch_size, rng) -> Selection``.

    Subclasses set ``name`` and ``needs`` and implement ``_select``. ``needs`` are the inputs
    the strategy always reads; ``wants`` are inputs it reads instead when present (BADGE's
    explicit gradient embeddings), computed only where the model can supply them. Validation of
    the declared arrays, the batch size, the exclusion mask and the random generator happens
    here, once: ``_select`` and the kernels behind it trust their inputs.
    """

    name: ClassVar[str]
    needs: ClassVar[frozenset[InputName]]
    wants: ClassVar[frozenset[InputName]] = frozenset()

    def select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator | int | None = None,
    ) -> Selection:
        """Choose ``batch_size`` distinct, non-excluded pool indices."""
        if not isinstance(inputs, PoolInputs):
            raise InvalidInputError(
                f"strategy {self.name!r} selects from PoolInputs, got {type(inputs).__name__}: "
                "pass PoolInputs(pool_size=n) for a pool of n items"
            )
        inputs.require(self.needs, self.name)
        n_pool = inputs.n_pool
        exclude = check_exclude(inputs.exclude, n_pool)
        n_excluded = 0 if inputs.exclude is None else int(exclude.sum())  # no pass over zeros
        check_batch_size(batch_size, n_pool - n_excluded)
        checked = self._check_inputs(inputs)
        return self._select(checked, int(batch_size), check_rng(rng), exclude)

    def _check_inputs(self, inputs: PoolInputs) -> PoolInputs:
        """The declared arrays, validated: probabilities, finite matrices of matching width."""
        return check_pool_inputs(inputs, self.needs | self.wants)

    @abstractmethod
    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        """Select from validated inputs; ``exclude`` is a boolean mask over the pool."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class ScoringStrategy(Strategy):
    """Top-k of a per-item score computed from the declared inputs, chunk by chunk.

    Subclasses (see :func:`scoring_strategy`) set ``name``, ``input_name`` (and ``more_inputs``;
    ``needs`` follows) and ``score_fn``, a pure function from the input arrays to one score per
    pool item, higher = more informative, that validates its inputs as it scores them.

    Parameters
    ----------
    chunk_size : pool items scored at once by a function that does not stream by itself.
    n_jobs : threads of a scoring function that takes ``n_jobs`` (default: the cores this
        process may use).
    """

    input_name: ClassVar[InputName]
    #: Further pool inputs that ``score_fn`` takes after the first, pool axis 0, chunked alike.
    more_inputs: ClassVar[tuple[InputName, ...]] = ()
    #: One score per pool item of the input arrays (pool axis ``POOL_AXIS``), higher = better;
    #: set it with ``staticmethod(function)``.
    score_fn: ClassVar[Callable[..., NDArray[np.float64]]]
    #: Whether ``score_fn`` reads the pool block by block itself: it then gets the whole array,
    #: not chunks of ``chunk_size``.
    streams: ClassVar[bool] = False

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE, n_jobs: int | None = None) -> None:
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "input_name" in cls.__dict__:
            cls.needs = frozenset({cls.input_name, *cls.more_inputs})

    def score(
        self, inputs: PoolInputs, n_jobs: int | None = None, *, n_threads: int | None = None
    ) -> NDArray[np.float64]:
        """Score every pool item (excluded ones too), chunk by chunk.

        ``n_jobs`` (older name ``n_threads``) sets the threads of a scoring function that takes
        them; None keeps the strategy's own. The scores do not depend on it.
        """
        inputs.require(self.needs, self.name)
        arrays = [getattr(inputs, name) for name in (self.input_name, *self.more_inputs)]
        fn = type(self).score_fn
        params = self._score_params()
        if _takes(fn, "n_jobs"):
            given = n_jobs if n_jobs is not None else n_threads
            params["n_jobs"] = self.n_jobs if given is None else given
        bound = functools.partial(fn, **params)
        if self.streams:
            return np.asarray(bound(*arrays), dtype=np.float64)
        if self.more_inputs:  # several pool-first arrays: a chunk of each at a time
            out = np.empty(inputs.n_pool, dtype=np.float64)
            for chunk in iter_chunks(out.size, self.chunk_size):
                out[chunk] = bound(*(array[chunk] for array in arrays))
            return out
        axis = POOL_AXIS.get(self.input_name, 0)
        return score_in_chunks(bound, arrays[0], axis, self.chunk_size)

    def _score_params(self) -> dict[str, Any]:
        """Keyword arguments of ``score_fn`` set by the strategy (a kernel choice), not n_jobs."""
        return {}

    def _check_inputs(self, inputs: PoolInputs) -> PoolInputs:
        return inputs  # the scoring function validates as it reads

    def _select(self, inputs: PoolInputs, batch_size: int, rng: Rng, exclude: Mask) -> Selection:
        scores = self.score(inputs)
        indices = top_k_masked(scores, batch_size, None if inputs.exclude is None else exclude)
        return Selection(indices, scores[indices].astype(np.float64), scores)


#: How each declared array is checked: class probabilities (``ndim`` 2 or 3) or a matrix.
_PROBA_NDIM = {"proba": 2, "samples": 3, "committee_proba": 3}


def check_pool_inputs(inputs: PoolInputs, names: frozenset[str]) -> PoolInputs:
    """Validate the arrays ``names`` of ``inputs`` that are present; return them checked.

    Probabilities must be finite rows in [0, 1] summing to one; embeddings finite matrices,
    the labeled set's as wide as the pool's. Pool sizes were compared by ``n_pool``.
    """
    checked: dict[str, Any] = {}
    for name in sorted(names):
        value = getattr(inputs, name)
        if value is None:
            continue
        if name in _PROBA_NDIM:
            checked[name] = check_proba(value, name, ndim=_PROBA_NDIM[name])
            if checked[name].shape[0] < 1:
                raise InvalidInputError(f"{name} needs at least one member, got {value.shape}")
        elif name == "labeled_embeddings":
            checked[name] = None if np.size(value) == 0 else check_matrix(value, name)
        elif name in TARGET_CHECKS:  # regression and multi-label inputs
            checked[name] = TARGET_CHECKS[name](value, name)
        else:  # pool embeddings: finite, with features, norms that do not overflow
            checked[name] = check_matrix_with_norms(value, name)[0]
    x, lab = checked.get("embeddings"), checked.get("labeled_embeddings")
    if x is not None and lab is not None and lab.shape[1] != x.shape[1]:
        raise InvalidInputError(
            f"labeled_embeddings have {lab.shape[1]} features but embeddings have {x.shape[1]}"
        )
    check_target_shapes(checked)
    return replace(inputs, **checked)


def select_indices(
    strategy: Strategy,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    exclude: ArrayLike | None = None,
    **arrays: ArrayLike | None,
) -> NDArray[np.intp]:
    """The indices ``strategy`` selects from ``arrays``: a batch strategy's pure-function face."""
    inputs = PoolInputs(exclude=exclude, **arrays)  # type: ignore[arg-type]
    return strategy.select(inputs, batch_size, rng).indices


S = TypeVar("S", bound=type[Strategy])
_REGISTRY: dict[str, type[Strategy]] = {}
#: :func:`available_strategies`' answers by task, emptied whenever the registry changes (the
#: service checks a project's settings, and with them the list, on every answer).
_BY_TASK: dict[TaskType | None, tuple[str, ...]] = {}


def register_strategy(cls: S) -> S:
    """Class decorator: make a strategy available by its ``name`` to :func:`get_strategy`."""
    name = cls.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"strategy name {name!r} registered twice")
    _REGISTRY[name] = cls
    _BY_TASK.clear()
    return cls


def unregister_strategy(name: str) -> None:
    """Remove a strategy from the registry (for plugins and tests that register their own)."""
    _REGISTRY.pop(name, None)
    _BY_TASK.clear()


def get_strategy(name: str, **params: Any) -> Strategy:
    """Build a registered strategy by name, e.g. ``get_strategy("margin")``.

    Parameters are passed to the strategy's constructor (``get_strategy("uncertainty_coreset",
    prefilter=10)``).
    """
    try:
        cls = _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownStrategyError(f"unknown strategy {name!r}; known: {known}") from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise InvalidInputError(f"bad parameters for strategy {name!r}: {exc}") from None


def scoring_strategy(
    cls_name: str,
    name: str,
    input_name: InputName,
    score_fn: Callable[..., NDArray[np.float64]],
    base: type[ScoringStrategy] = ScoringStrategy,
    doc: str | None = None,
) -> type[ScoringStrategy]:
    """Define and register the strategy ``name``: top-k of ``score_fn`` over ``input_name``
    (``doc``: the class's docstring; default: which function it ranks by)."""
    namespace = {
        "name": name,
        "input_name": input_name,
        "score_fn": staticmethod(score_fn),
        "__module__": score_fn.__module__,
        "__qualname__": cls_name,
        "__doc__": doc or f"Top-k by :func:`{score_fn.__module__}.{score_fn.__name__}`.",
    }
    return register_strategy(type(cls_name, (base,), namespace))


def strategy_tasks(strategy: Strategy | type[Strategy]) -> frozenset[TaskType]:
    """The task types a strategy serves: those whose model outputs cover its ``needs``."""
    needs = set(strategy.needs)
    return frozenset(task for task in TASK_TYPES if needs <= TASK_INPUTS[task])


def available_strategies(task: TaskType | None = "classification") -> list[str]:
    """Names of the registered strategies that serve ``task``, sorted.

    The default is classification, the task every strategy served before regression and
    multi-label arrived; ``task=None`` lists every registered strategy.
    """
    if task is not None and task not in TASK_TYPES:
        raise InvalidInputError(f"unknown task type {task!r}; known: {', '.join(TASK_TYPES)}")
    found = _BY_TASK.get(task)
    if found is None:
        found = _BY_TASK[task] = tuple(
            sorted(
                name
                for name, cls in _REGISTRY.items()
                if task is None or task in strategy_tasks(cls)
            )
        )
    return list(found)


@functools.cache
def _takes(fn: Callable[..., Any], parameter: str) -> bool:
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
