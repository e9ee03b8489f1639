"""What a sequence strategy reads, computed from a tagger: the counterpart of
:func:`labelwise.models.compute_inputs` for sequence labeling.

The round itself is :class:`labelwise.loop.RoundEngine`'s, for taggers as for every other
model (a model whose ``task`` is ``"sequence"``); the engine calls
:func:`compute_sequence_inputs`, which computes only the inputs the strategy declared (a CRF's
marginals cost a pass over every token and label; MNLP needs only the best paths and lengths).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import MissingInputError
from labelwise.spans.diversity import sentence_embeddings
from labelwise.spans.selection import SequenceInputs

__all__ = ["SequenceModel", "compute_sequence_inputs"]


class SequenceModel(Protocol):
    """What a tagger offers the round (:class:`~labelwise.spans.crf.CRFTagger` does)."""

    task: str  # "sequence": how the round engine knows a tagger

    def fit(self, sequences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> object:
        """Train on token sequences and their tags."""

    def marginals(self, sequences: Sequence[Sequence[str]]) -> list[NDArray[np.float64]]:
        """Per-token marginals ``(T_i, K)``."""

    def best_path(
        self, sequences: Sequence[Sequence[str]]
    ) -> tuple[list[list[str]], NDArray[np.float64]]:
        """Best paths and their probabilities."""


def compute_sequence_inputs(
    model: SequenceModel,
    pool: Sequence[Sequence[str]],
    needs: frozenset[str],
    exclude: ArrayLike | None = None,
    n_samples: int = 10,
    seed: int = 0,
) -> SequenceInputs:
    """The inputs ``needs`` names, for the pool, and nothing more.

    ``n_samples`` MC-Dropout passes (seeded by ``seed``) are asked of a model that offers
    ``sample_marginals`` when the strategy needs ``samples``.
    """
    samples = None
    if "samples" in needs:
        sampler = getattr(model, "sample_marginals", None)
        if sampler is None:
            raise MissingInputError(
                f"{type(model).__name__} gives no samples: sequence_bald needs a stochastic "
                "tagger (TorchTagger's MC Dropout)"
            )
        samples = sampler(pool, n_samples, seed)
    marginals = model.marginals(pool) if "marginals" in needs else None
    log_proba = None
    if "path_log_proba" in needs:
        _, proba = model.best_path(pool)
        log_proba = np.log(np.maximum(proba, np.finfo(np.float64).tiny))
    lengths = np.array([len(words) for words in pool], dtype=np.intp)
    embeddings = None
    if "embeddings" in needs:  # the tagger's own sentence vectors, else mean token features
        own = getattr(model, "sentence_embeddings", None)
        embeddings = own(pool) if own is not None else sentence_embeddings(pool)
    return SequenceInputs(
        embeddings=embeddings,
        marginals=marginals,
        path_log_proba=log_proba,
        samples=samples,
        lengths=lengths,
        exclude=exclude,
    )
