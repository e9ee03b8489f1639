"""Batch diversity for sequence strategies: the most uncertain sentences, spread out.

A batch of the top-scoring sentences often holds near-copies (the same template tweet, the same
unknown name in ten sentences): labeling one teaches what the others would. Following the
"top-k then cover" scheme of Zhdanov (2019, diverse mini-batch active learning) with the
k-Center-Greedy cover of Sener & Savarese (2018, Core-Set), :func:`diverse_top_k` first keeps
the ``candidates`` (``factor`` x batch) highest-scoring sentences, then picks the batch among
them farthest-first: the best-scoring candidate, then each time the candidate whose nearest
chosen sentence is farthest (Euclidean distance of sentence embeddings), ties to the higher
score.

Sentence embeddings: a tagger's own sentence vectors where it offers ``sentence_embeddings``;
otherwise :func:`sentence_embeddings`, the mean of the sentence's token features (the CRF's own
features, :func:`labelwise.spans.crf.token_features`, hashed into ``dim`` dimensions), L2
normalized, so that two sentences of the same words and shapes sit close.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError

__all__ = ["DIVERSITY_FACTOR", "diverse_top_k", "sentence_embeddings"]

#: Candidates per batch place kept before the cover (Zhdanov's beta).
DIVERSITY_FACTOR = 4


def sentence_embeddings(pool: Sequence[Sequence[str]], dim: int = 256) -> NDArray[np.float64]:
    """``(N, dim)`` L2-normalized means of the hashed token features of each sentence.

    Each token's features (``name=value`` strings and numeric flags of
    :func:`~labelwise.spans.crf.token_features`) are hashed (CRC-32, signed) into ``dim``
    buckets; an empty sentence is the zero vector.
    """
    from labelwise.spans.crf import token_features

    if dim < 1:
        raise InvalidInputError(f"dim must be positive, got {dim}")
    out = np.zeros((len(pool), dim))
    for i, words in enumerate(pool):
        if not words:
            continue
        row = out[i]
        for feats in token_features(list(words)):
            for name, value in feats.items():
                key = f"{name}={value}" if isinstance(value, str) else name
                weight = 1.0 if isinstance(value, str) else float(value)
                h = zlib.crc32(key.encode("utf-8"))
                row[h % dim] += weight if (h >> 31) & 1 else -weight
        row /= len(words)
        norm = np.linalg.norm(row)
        if norm > 0:
            row /= norm
    return out


def diverse_top_k(
    scores: ArrayLike,
    embeddings: ArrayLike,
    batch_size: int,
    exclude: NDArray[np.bool_] | None = None,
    factor: int = DIVERSITY_FACTOR,
) -> NDArray[np.intp]:
    """A batch among the ``factor * batch_size`` best-scoring sentences, chosen farthest-first.

    Parameters
    ----------
    scores : ``(N,)`` informativeness, higher = label sooner (finite; checked by the caller).
    embeddings : ``(N, D)`` sentence embeddings.
    batch_size : sentences to choose, at most the non-excluded ones.
    exclude : ``(N,)`` mask of sentences never to choose.
    factor : candidates per batch place; 1 gives plain top-k.

    Returns
    -------
    ``(batch_size,)`` distinct indices, the best-scoring candidate first.
    """
    s = np.asarray(scores, dtype=np.float64)
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != s.shape[0]:
        raise InvalidInputError(
            f"embeddings must be (N, D) with N = {s.shape[0]} sentences, got {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise InvalidInputError("embeddings hold NaN or infinite values")
    if factor < 1:
        raise InvalidInputError(f"factor must be at least 1, got {factor}")
    allowed = np.flatnonzero(~exclude) if exclude is not None else np.arange(s.shape[0])
    order = allowed[np.lexsort((allowed, -s[allowed]))]  # best first, ties to the lower index
    candidates = order[: max(batch_size, factor * batch_size)]
    chosen = [int(candidates[0])] if batch_size > 0 else []
    nearest = np.linalg.norm(x[candidates] - x[candidates[0]], axis=1)
    taken = np.zeros(candidates.shape[0], dtype=bool)
    taken[0] = True
    while len(chosen) < batch_size:
        gap = np.where(taken, -np.inf, nearest)
        far = np.flatnonzero(gap == gap.max())  # ties: candidates are in score order already
        pick = int(far[0])
        taken[pick] = True
        chosen.append(int(candidates[pick]))
        nearest = np.minimum(nearest, np.linalg.norm(x[candidates] - x[candidates[pick]], axis=1))
    return np.asarray(chosen, dtype=np.intp)
