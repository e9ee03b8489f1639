"""Sequence strategies behind one face, ``select(inputs, batch_size, rng)``, and their registry.

Why a registry of their own: :class:`labelwise.strategies.PoolInputs` holds rectangular arrays
whose pool axis is known (``proba`` ``(N, C)``, ``samples`` ``(K, N, C)``), and the contract
suite and the round engine index, chunk and validate them as such. Sequence inputs are ragged
(one ``(T_i, K)`` array per sentence), so they cannot be a ``PoolInputs`` field without changing
every consumer of that class. The face is the same (declared ``needs``, ``select`` returning a
:class:`~labelwise.strategies.Selection` of distinct, non-excluded indices, validation once at
the edge), so joining the main registry later means adding ``marginals``/``path_log_proba``/
``token_samples`` to ``PoolInputs`` and a ``spans`` task type, nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError, MissingInputError, UnknownStrategyError
from labelwise.spans.diversity import DIVERSITY_FACTOR, diverse_top_k
from labelwise.spans.strategies import (
    Reduce,
    least_confidence_path,
    mnlp,
    sequence_bald,
    token_entropy,
)
from labelwise.strategies.base import Selection
from labelwise.strategies.topk import top_k_masked
from labelwise.validation import check_batch_size, check_exclude, check_rng

__all__ = [
    "DEFAULT_SEQUENCE_STRATEGY",
    "SequenceInputs",
    "SequenceStrategy",
    "available_sequence_strategies",
    "get_sequence_strategy",
]

SequenceInput = Literal["marginals", "path_log_proba", "samples", "lengths", "embeddings"]

#: The strategy a spans project uses unless told otherwise.
DEFAULT_SEQUENCE_STRATEGY = "mnlp"


@dataclass(frozen=True)
class SequenceInputs:
    """What a sequence model computed for a pool of N sequences.

    Parameters
    ----------
    marginals : N arrays ``(T_i, K)`` of per-token label marginals.
    path_log_proba : ``(N,)`` log-probability of each best path (a CRF's own).
    samples : N arrays ``(S, T_i, K)`` of MC-Dropout or ensemble marginals.
    lengths : ``(N,)`` token counts ``T_i`` (read off ``marginals`` when absent).
    exclude : pool indices, or a boolean mask, never to select.
    embeddings : ``(N, D)`` sentence embeddings (:mod:`labelwise.spans.diversity`).
    """

    marginals: Sequence[ArrayLike] | None = None
    path_log_proba: ArrayLike | None = None
    samples: Sequence[ArrayLike] | None = None
    lengths: ArrayLike | None = None
    exclude: ArrayLike | None = None
    embeddings: ArrayLike | None = None

    @property
    def n_pool(self) -> int:
        """Number of pool sequences, read off the inputs present."""
        sizes = {
            name: len(value)
            for name in ("marginals", "path_log_proba", "samples", "lengths", "embeddings")
            if (value := getattr(self, name)) is not None
        }
        if not sizes:
            raise MissingInputError("SequenceInputs holds no input")
        if len(set(sizes.values())) != 1:
            raise InvalidInputError(f"sequence inputs disagree on the pool size: {sizes}")
        return next(iter(sizes.values()))

    def token_counts(self) -> NDArray[np.intp]:
        """``T_i`` of each sequence: ``lengths``, or read off the marginals."""
        if self.lengths is not None:
            return np.asarray(self.lengths, dtype=np.intp)
        if self.marginals is None:
            raise MissingInputError("pass lengths or marginals: sequence lengths are needed")
        return np.array([np.shape(m)[0] for m in self.marginals], dtype=np.intp)


def _present(inputs: SequenceInputs, name: str) -> bool:
    if name == "lengths":  # derivable from the marginals
        return inputs.lengths is not None or inputs.marginals is not None
    return getattr(inputs, name) is not None


class SequenceStrategy(ABC):
    """Select sequences to label: ``select(inputs, batch_size, rng) -> Selection``."""

    name: ClassVar[str]
    needs: ClassVar[frozenset[SequenceInput]]

    def select(
        self, inputs: SequenceInputs, batch_size: int, rng: np.random.Generator | int | None = None
    ) -> Selection:
        """Choose ``batch_size`` distinct, non-excluded sequences, most informative first."""
        missing = sorted(n for n in self.needs if not _present(inputs, n))
        if missing:
            raise MissingInputError(f"sequence strategy {self.name!r} needs {', '.join(missing)}")
        n_pool = inputs.n_pool
        exclude = check_exclude(inputs.exclude, n_pool)
        check_batch_size(batch_size, n_pool - int(exclude.sum()))
        scores = self.score(inputs, check_rng(rng))
        indices = top_k_masked(scores, int(batch_size), exclude)
        return Selection(indices, scores[indices], scores)

    @abstractmethod
    def score(self, inputs: SequenceInputs, rng: np.random.Generator) -> NDArray[np.float64]:
        """One score per pool sequence, higher = label sooner."""


class RandomSequences(SequenceStrategy):
    """Uniform random sequences: the baseline every strategy must beat."""

    name = "random"
    needs = frozenset()

    def score(self, inputs: SequenceInputs, rng: np.random.Generator) -> NDArray[np.float64]:
        return rng.random(inputs.n_pool)


class LeastConfidencePath(SequenceStrategy):
    """``1 - P(y* | x)`` of the best path (:func:`.strategies.least_confidence_path`)."""

    name = "least_confidence_path"
    needs = frozenset({"path_log_proba"})

    def score(self, inputs: SequenceInputs, rng: np.random.Generator) -> NDArray[np.float64]:
        return least_confidence_path(inputs.path_log_proba)  # type: ignore[arg-type]


class MNLP(SequenceStrategy):
    """``-(1/T) log P(y* | x)`` (:func:`~labelwise.spans.strategies.mnlp`, Shen et al.)."""

    name = "mnlp"
    needs = frozenset({"path_log_proba", "lengths"})

    def score(self, inputs: SequenceInputs, rng: np.random.Generator) -> NDArray[np.float64]:
        return mnlp(inputs.path_log_proba, inputs.token_counts())  # type: ignore[arg-type]


class DiverseMNLP(SequenceStrategy):
    """MNLP's top sentences, spread over sentence embeddings
    (:func:`~labelwise.spans.diversity.diverse_top_k`: the ``factor`` x batch best by MNLP,
    then farthest-first), in score order; ``factor=1`` is plain MNLP."""

    name = "mnlp_diverse"
    needs = frozenset({"path_log_proba", "lengths", "embeddings"})

    def __init__(self, factor: int = DIVERSITY_FACTOR) -> None:
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise InvalidInputError(f"factor must be a positive integer, got {factor!r}")
        self.factor = factor

    def select(
        self, inputs: SequenceInputs, batch_size: int, rng: np.random.Generator | int | None = None
    ) -> Selection:
        """MNLP scores, then a batch chosen among the best of them for spread."""
        ranked = super().select(inputs, batch_size, rng)  # checks inputs, exclude, batch size
        exclude = check_exclude(inputs.exclude, inputs.n_pool)
        assert inputs.embeddings is not None  # declared in needs
        scores = ranked.pool_scores
        assert scores is not None  # a scoring strategy's selection carries them
        chosen = diverse_top_k(scores, inputs.embeddings, int(batch_size), exclude, self.factor)
        indices = chosen[np.lexsort((chosen, -scores[chosen]))]  # the batch, best first
        return Selection(indices, scores[indices], scores)

    def score(self, inputs: SequenceInputs, rng: np.random.Generator) -> NDArray[np.float64]:
        return mnlp(inputs.path_log_proba, inputs.token_counts())  # type: ignore[arg-type]


class _Reducing(SequenceStrategy):
    def __init__(self, reduce: Reduce = "sum") -> None:
        if reduce not in ("sum", "mean", "max"):
            raise InvalidInputError(f"unknown reduce {reduce!r}; use 'sum', 'mean' or 'max'")
        self.reduce: Reduce = reduce


class TokenEntropy(_Reducing):
    """Sum, mean or max of token entropies (:func:`~labelwise.spans.strategies.token_entropy`)."""

    name = "token_entropy"
    needs = frozenset({"marginals"})

    def score(self, inputs: SequenceInputs, rng: np.random.Generator) -> NDArray[np.float64]:
        return token_entropy(inputs.marginals, self.reduce)  # type: ignore[arg-type]


class SequenceBALD(_Reducing):
    """Per-token BALD over samples, reduced (:func:`~labelwise.spans.strategies.sequence_bald`)."""

    name = "sequence_bald"
    needs = frozenset({"samples"})

    def score(self, inputs: SequenceInputs, rng: np.random.Generator) -> NDArray[np.float64]:
        return sequence_bald(inputs.samples, self.reduce)  # type: ignore[arg-type]


_REGISTRY: dict[str, type[SequenceStrategy]] = {
    cls.name: cls
    for cls in (
        RandomSequences,
        LeastConfidencePath,
        MNLP,
        DiverseMNLP,
        TokenEntropy,
        SequenceBALD,
    )
}


def available_sequence_strategies() -> list[str]:
    """Names of the sequence strategies, sorted."""
    return sorted(_REGISTRY)


def get_sequence_strategy(name: str, **params: Any) -> SequenceStrategy:
    """Build a sequence strategy by name, e.g. ``get_sequence_strategy("token_entropy",
    reduce="max")``."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownStrategyError(f"unknown sequence strategy {name!r}; known: {known}") from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise InvalidInputError(f"bad parameters for sequence strategy {name!r}: {exc}") from None
