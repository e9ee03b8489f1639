"""Top-k selection, exact under ties, and a streaming top-k for chunked pools.

Ties are broken by the lower pool index, so a selection is deterministic and equals the one
computed chunk by chunk or shard by shard.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.validation import check_batch_size, check_exclude, check_scores


def top_k_masked(
    scores: NDArray[np.floating], k: int, exclude: NDArray[np.bool_] | None = None
) -> NDArray[np.intp]:
    """Indices of the ``k`` highest scores outside ``exclude``, best first, ties by lower index.

    Trusts its inputs: finite scores, ``k`` at most the number of non-excluded items.
    """
    mask = exclude if exclude is not None and exclude.any() else None
    if scores.size >= _PREFILTER_MIN and scores.size > 4 * k:
        s = scores if mask is None else np.where(mask, -np.inf, scores)
        candidates = _candidates_above_block_bound(s, k)
        if candidates is not None:
            order = np.lexsort((candidates, -scores[candidates]))[:k]
            return candidates[order].astype(np.intp, copy=False)
    candidates = np.arange(scores.size) if mask is None else np.flatnonzero(~mask)
    return candidates[_top_k_by_id(scores[candidates], candidates, k)].astype(np.intp, copy=False)


#: Pools at least this large are pre-filtered by block maxima before the exact top-k.
_PREFILTER_MIN = 4096


def _candidates_above_block_bound(s: NDArray[np.floating], k: int) -> NDArray[np.intp] | None:
    """Every index whose score can be among the top k (None when the bound is useless): the
    k-th largest maximum of 4k disjoint blocks is a lower bound of the k-th largest score."""
    n_blocks = 4 * k
    width = s.size // n_blocks
    maxima = s[: n_blocks * width].reshape(n_blocks, width).max(axis=1)
    bound = np.partition(maxima, n_blocks - k)[n_blocks - k]
    if not np.isfinite(bound):
        return None
    candidates = np.flatnonzero(s >= bound)
    return candidates if candidates.size >= k else None


def top_k(scores: ArrayLike, k: int, exclude: ArrayLike | None = None) -> NDArray[np.intp]:
    """Indices of the ``k`` highest ``scores``, best first; ties go to the lower index.

    Parameters
    ----------
    scores : (N,) finite scores, higher = more informative.
    k : number of indices to return, at most the number of non-excluded items.
    exclude : pool indices or a boolean mask that must not be returned.

    Examples
    --------
    >>> top_k([0.1, 0.9, 0.5, 0.9], 2).tolist()
    [1, 3]
    """
    s = check_scores(scores)
    mask = check_exclude(exclude, s.size)
    check_batch_size(k, s.size - int(mask.sum()))
    return top_k_masked(s, int(k), mask)


class StreamingTopK:
    """Keep the global top-k while scores arrive chunk by chunk (or shard by shard).

    Each ``push`` gives the scores of a chunk and the global indices (or ids) of its items; the
    result equals :func:`top_k` over the concatenation, ties broken by the lower index.
    """

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.k = k
        self._scores = np.empty(0, dtype=np.float64)
        self._ids = np.empty(0, dtype=np.int64)

    def push(self, scores: ArrayLike, ids: ArrayLike) -> None:
        """Merge one chunk's scores with their global ids."""
        s = np.asarray(scores, dtype=np.float64)
        i = np.asarray(ids, dtype=np.int64)
        if s.shape != i.shape:
            raise ValueError(f"scores {s.shape} and ids {i.shape} differ in shape")
        if s.size > self.k:
            keep = _top_k_by_id(s, i, self.k)
            s, i = s[keep], i[keep]
        s = np.concatenate([self._scores, s])
        i = np.concatenate([self._ids, i])
        keep = _top_k_by_id(s, i, min(self.k, s.size))
        self._scores, self._ids = s[keep], i[keep]

    def result(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The ids and scores kept so far, best first (fewer than k if fewer arrived)."""
        return self._ids.copy(), self._scores.copy()


def _top_k_by_id(
    scores: NDArray[np.floating], ids: NDArray[np.integer], k: int
) -> NDArray[np.intp]:
    """Positions of the k best (score desc, id asc): a partition finds the k-th score and only
    the items at or above it are sorted (all of them, NaN last, when NaN defeats that)."""
    if scores.size > 2 * k:
        kth = np.partition(scores, scores.size - k)[scores.size - k]
        candidates = np.flatnonzero(scores >= kth)
        if candidates.size >= k:
            order = np.lexsort((ids[candidates], -scores[candidates]))
            return candidates[order[:k]]
    order = np.lexsort((ids, -scores))
    return order[:k]
