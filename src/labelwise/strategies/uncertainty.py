"""Uncertainty sampling over class probabilities (Lewis & Gale 1994; Settles 2009, sec. 3.1).

Each function maps ``proba`` of shape (N, C) to N float64 scores, higher = more informative.

The scores are memory-bound, so each is one pass over the input: cache-sized blocks of rows are
copied transposed to (C, rows) (:func:`~labelwise.strategies.chunking.map_row_blocks`), each
block is validated (rows summing to one, no negative value, no NaN) and scored while it is in
cache, every reduction over the classes runs along the first axis as C vectorized operations,
float32 stays float32 until the (N,) scores, and two threads share the blocks. Extra memory is
the (N,) result and a few blocks per thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.strategies._validation import (
    check_proba,
    check_proba_layout,
    proba_sums_dtype,
    transposed_rows_are_proba,
)
from labelwise.strategies.base import ScoringStrategy, register_strategy
from labelwise.strategies.chunking import RowBlock, map_row_blocks, streams_blocks
from labelwise.strategies.fused import FusedKind, can_score, fused_scores

BlockKernel = Callable[[RowBlock], None]

_MINUS_LN2 = -float(np.log(2.0))


def score_rows(
    proba: ArrayLike,
    kernel: BlockKernel,
    *,
    name: str = "proba",
    n_threads: int | None = None,
    block_rows: int | None = None,
    fused: FusedKind | None = None,
) -> NDArray[np.float64]:
    """Validate ``proba`` and score its rows with a block ``kernel``, in one pass.

    Each block is tested with :func:`transposed_rows_are_proba` before ``kernel`` scores it.
    When a block fails, :func:`check_proba` runs on the whole array and raises its usual
    message; rows that only came near the tolerance's edge pass it, and the rows are then scored
    without the fast test. With ``fused`` (the kernel's name) and an array the compiled scorer
    takes (:func:`~labelwise.strategies.fused.can_score`), that scorer does the same pass on the
    rows in place (the same scores bit for bit; the entropy within 1e-7, see
    :mod:`labelwise.strategies.fused`).
    """
    p = check_proba_layout(proba, name)
    if p.shape[0] == 0:
        return np.empty(0, dtype=np.float64)
    if fused is not None and can_score(p, fused):
        out = fused_scores(p, fused, n_threads=n_threads)
    else:
        out = map_row_blocks(
            kernel,
            p,
            check=transposed_rows_are_proba,
            check_dtype=proba_sums_dtype(p.shape[1], p.dtype),
            n_threads=n_threads,
            block_rows=block_rows,
        )
    if out is None:
        check_proba(p, name)  # raises, unless a row only came near the tolerance's edge
        out = map_row_blocks(kernel, p, n_threads=n_threads, block_rows=block_rows)
        assert out is not None  # no check, nothing to refuse
    return out


def _least_confidence_block(b: RowBlock) -> None:
    np.maximum.reduce(b.t, axis=0, out=b.vec)
    np.subtract(1.0, b.vec, out=b.out, dtype=np.float64)


def _top_two_block(b: RowBlock) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """The largest and second-largest value of each column of ``b.t`` (overwritten), ties kept.

    A knockout over the C rows: pair the first and last halves, keep the winners (maxima) in the
    first half and the losers (minima) in ``b.work``; repeat on the winners. The champion is the
    largest value; the second largest lost to it at some round, so it is the largest loser.
    """
    t, losers = b.t, b.work
    k, used = t.shape[0], 0
    while k > 1:
        half = k // 2
        first, last = t[:half], t[k - half : k]  # an odd middle row waits for the next round
        np.minimum(first, last, out=losers[used : used + half])
        np.maximum(first, last, out=first)
        used += half
        k -= half
    np.maximum.reduce(losers[:used], axis=0, out=b.vec)
    return t[0], b.vec


def _margin_block(b: RowBlock) -> None:
    first, second = _top_two_block(b)
    np.subtract(second, first, out=b.out, dtype=np.float64)


def _ratio_block(b: RowBlock) -> None:
    first, second = _top_two_block(b)
    np.maximum(first, np.finfo(first.dtype).tiny, out=first)
    np.divide(second, first, out=b.out, dtype=np.float64)


def _entropy_block(b: RowBlock) -> None:
    # p log p with 0 log 0 = 0, without a mask: p log(p + tiny) equals p log p for every normal
    # p, and is exactly 0 at p = 0 (log(tiny) is finite). Logged in the input's dtype, summed in
    # float64, so float32 rows lose only the log's rounding (about 1e-7).
    # log2 is the cheaper vectorized logarithm (about 40% faster than log for float32 here); the
    # (m,) sums are turned into nats once: H = -ln 2 * sum_c p_c log2 p_c.
    p, plogp = b.t, b.work
    np.add(p, np.finfo(p.dtype).tiny, out=plogp)
    np.log2(plogp, out=plogp)
    np.multiply(plogp, p, out=plogp)
    np.add.reduce(plogp, axis=0, dtype=np.float64, out=b.out)
    np.multiply(b.out, _MINUS_LN2, out=b.out)


@streams_blocks
def least_confidence(proba: ArrayLike, *, n_threads: int | None = None) -> NDArray[np.float64]:
    """``1 - max_c p(c|x)``: how far the most likely class is from certain (Lewis & Gale 1994).

    Parameters
    ----------
    proba : (N, C) class probabilities: finite, in [0, 1], rows summing to one.
    n_threads : threads sharing the rows (default: up to 2).

    Returns
    -------
    (N,) float64 scores in [0, 1 - 1/C].

    Examples
    --------
    >>> least_confidence([[0.5, 0.5], [1.0, 0.0]]).tolist()
    [0.5, 0.0]
    """
    return score_rows(proba, _least_confidence_block, n_threads=n_threads, fused="least_confidence")


@streams_blocks
def margin(proba: ArrayLike, *, n_threads: int | None = None) -> NDArray[np.float64]:
    """``-(p_1 - p_2)``, the negated gap between the two most likely classes (Scheffer 2001).

    Higher (a smaller gap) = more informative; the range is [-1, 0]. ``p_1 >= p_2`` are the two
    largest probabilities of the row (equal when the top class is tied).

    >>> margin([[0.5, 0.3, 0.2]]).round(6).tolist()
    [-0.2]
    """
    return score_rows(proba, _margin_block, n_threads=n_threads, fused="margin")


@streams_blocks
def ratio(proba: ArrayLike, *, n_threads: int | None = None) -> NDArray[np.float64]:
    """``p_2 / p_1``, the ratio of the second to the most likely class probability, in [0, 1].

    >>> ratio([[0.5, 0.25, 0.25]]).tolist()
    [0.5]
    """
    return score_rows(proba, _ratio_block, n_threads=n_threads, fused="ratio")


@streams_blocks
def entropy(proba: ArrayLike, *, n_threads: int | None = None) -> NDArray[np.float64]:
    """Shannon entropy ``H[p] = -sum_c p_c log p_c`` in nats (0 log 0 = 0); uniform gives log C.

    Settles 2009, eq. 3.3 (after Shannon 1948). float32 probabilities are logged in float32 and
    summed in float64: about 1e-7 from the float64 formula on the same values.

    >>> round(float(entropy([[0.25, 0.25, 0.25, 0.25]])[0]), 6)
    1.386294
    """
    return score_rows(proba, _entropy_block, n_threads=n_threads, fused="entropy")


@register_strategy
class LeastConfidence(ScoringStrategy):
    """Top-k by :func:`least_confidence`."""

    name: ClassVar[str] = "least_confidence"
    input_name = "proba"
    score_fn = staticmethod(least_confidence)


@register_strategy
class Margin(ScoringStrategy):
    """Top-k by :func:`margin` (smallest gap between the two most likely classes)."""

    name: ClassVar[str] = "margin"
    input_name = "proba"
    score_fn = staticmethod(margin)


@register_strategy
class Ratio(ScoringStrategy):
    """Top-k by :func:`ratio`."""

    name: ClassVar[str] = "ratio"
    input_name = "proba"
    score_fn = staticmethod(ratio)


@register_strategy
class Entropy(ScoringStrategy):
    """Top-k by :func:`entropy` (max entropy)."""

    name: ClassVar[str] = "entropy"
    input_name = "proba"
    score_fn = staticmethod(entropy)
