"""Uncertainty sampling over class probabilities (Lewis & Gale 1994; Settles 2009, sec. 3.1).

Each function maps ``proba`` of shape (N, C) to N float64 scores, higher = more informative.

Each score is one pass over the input that validates the rows (summing to one, no negative
value, no NaN) and scores them: cache-sized blocks of rows copied transposed to (C, rows)
(:func:`~labelwise.strategies.chunking.map_row_blocks`) so that every reduction over the classes
is C vectorized operations, or the compiled scorer of :mod:`labelwise.strategies.fused` (the
``kernel`` argument picks). float32 stays float32 until the (N,) scores; ``n_jobs`` threads share
the rows. Extra memory is the (N,) result and a few blocks per thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.strategies.base import ScoringStrategy, register_strategy
from labelwise.strategies.chunking import (
    DEFAULT_CHUNK_SIZE,
    RowBlock,
    map_row_blocks,
    streams_blocks,
)
from labelwise.strategies.fused import FusedKind, Kernel, check_kernel, fused_scores, use_compiled
from labelwise.strategies.validation import (
    check_proba,
    check_proba_layout,
    proba_sums_dtype,
    transposed_rows_are_proba,
)

BlockKernel = Callable[[RowBlock], None]

_MINUS_LN2 = -float(np.log(2.0))


def score_rows(
    proba: ArrayLike,
    kind: FusedKind,
    *,
    name: str = "proba",
    n_jobs: int | None = None,
    kernel: Kernel = "auto",
    validate: bool = True,
    block_rows: int | None = None,
) -> NDArray[np.float64]:
    """Score the rows of ``proba`` by the uncertainty score ``kind``, validating them in the
    same pass.

    Each block of rows gets the fast test of :func:`transposed_rows_are_proba` before it is
    scored (the compiled scorer tests each row as it reads it). When a block fails,
    :func:`check_proba` runs on the whole array and raises its usual message; rows that only
    came near the tolerance's edge pass it and are then scored without the fast test.
    ``validate=False`` is for callers that checked ``proba`` already (a batch strategy).
    """
    kernel = check_kernel(kernel)
    p = check_proba_layout(proba, name)
    if p.shape[0] == 0:
        return np.empty(0, dtype=np.float64)
    block_kernel = _BLOCK_KERNELS[kind]
    if use_compiled(p, kind, kernel):
        out = fused_scores(p, kind, n_jobs=n_jobs)
    elif validate:
        out = map_row_blocks(
            block_kernel,
            p,
            check=transposed_rows_are_proba,
            check_dtype=proba_sums_dtype(p.shape[1], p.dtype),
            n_jobs=n_jobs,
            block_rows=block_rows,
        )
    else:
        out = None
    if out is None:
        if validate:
            check_proba(p, name)  # raises, unless a row only came near the tolerance's edge
        out = map_row_blocks(block_kernel, p, n_jobs=n_jobs, block_rows=block_rows)
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


_BLOCK_KERNELS: dict[str, BlockKernel] = {
    "least_confidence": _least_confidence_block,
    "margin": _margin_block,
    "ratio": _ratio_block,
    "entropy": _entropy_block,
}


@streams_blocks
def least_confidence(
    proba: ArrayLike, *, n_jobs: int | None = None, kernel: Kernel = "auto"
) -> NDArray[np.float64]:
    """``1 - max_c p(c|x)``: how far the most likely class is from certain (Lewis & Gale 1994).

    Parameters
    ----------
    proba : (N, C) class probabilities: finite, in [0, 1], rows summing to one.
    n_jobs : threads sharing the rows (default: the cores this process may use).
    kernel : "auto" (the compiled scorer where it is built and takes the array), "compiled" or
        "numpy" (see :mod:`labelwise.strategies.fused`).

    Returns
    -------
    (N,) float64 scores in [0, 1 - 1/C].

    Examples
    --------
    >>> least_confidence([[0.5, 0.5], [1.0, 0.0]]).tolist()
    [0.5, 0.0]
    """
    return score_rows(proba, "least_confidence", n_jobs=n_jobs, kernel=kernel)


@streams_blocks
def margin(
    proba: ArrayLike, *, n_jobs: int | None = None, kernel: Kernel = "auto"
) -> NDArray[np.float64]:
    """``-(p_1 - p_2)``, the negated gap between the two most likely classes (Scheffer 2001).

    Higher (a smaller gap) = more informative; the range is [-1, 0]. ``p_1 >= p_2`` are the two
    largest probabilities of the row (equal when the top class is tied).

    >>> margin([[0.5, 0.3, 0.2]]).round(6).tolist()
    [-0.2]
    """
    return score_rows(proba, "margin", n_jobs=n_jobs, kernel=kernel)


@streams_blocks
def ratio(
    proba: ArrayLike, *, n_jobs: int | None = None, kernel: Kernel = "auto"
) -> NDArray[np.float64]:
    """``p_2 / p_1``, the ratio of the second to the most likely class probability, in [0, 1].

    >>> ratio([[0.5, 0.25, 0.25]]).tolist()
    [0.5]
    """
    return score_rows(proba, "ratio", n_jobs=n_jobs, kernel=kernel)


@streams_blocks
def entropy(
    proba: ArrayLike, *, n_jobs: int | None = None, kernel: Kernel = "auto"
) -> NDArray[np.float64]:
    """Shannon entropy ``H[p] = -sum_c p_c log p_c`` in nats (0 log 0 = 0); uniform gives log C.

    Settles 2009, eq. 3.3 (after Shannon 1948). float32 probabilities are logged in float32 and
    summed in float64: about 1e-7 from the float64 formula on the same values.

    >>> round(float(entropy([[0.25, 0.25, 0.25, 0.25]])[0]), 6)
    1.386294
    """
    return score_rows(proba, "entropy", n_jobs=n_jobs, kernel=kernel)


class UncertaintyStrategy(ScoringStrategy):
    """Top-k by an uncertainty score of ``proba``.

    Parameters
    ----------
    kernel : "auto", "compiled" or "numpy": which scorer runs (:mod:`labelwise.strategies.fused`).
    chunk_size, n_jobs : see :class:`~labelwise.strategies.base.ScoringStrategy`.
    """

    input_name = "proba"

    def __init__(
        self,
        kernel: Kernel = "auto",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(chunk_size, n_jobs)
        self.kernel = check_kernel(kernel)

    def _score_params(self) -> dict[str, Any]:
        return {"kernel": self.kernel}


@register_strategy
class LeastConfidence(UncertaintyStrategy):
    """Top-k by :func:`least_confidence`."""

    name: ClassVar[str] = "least_confidence"
    score_fn = staticmethod(least_confidence)


@register_strategy
class Margin(UncertaintyStrategy):
    """Top-k by :func:`margin` (smallest gap between the two most likely classes)."""

    name: ClassVar[str] = "margin"
    score_fn = staticmethod(margin)


@register_strategy
class Ratio(UncertaintyStrategy):
    """Top-k by :func:`ratio`."""

    name: ClassVar[str] = "ratio"
    score_fn = staticmethod(ratio)


@register_strategy
class Entropy(UncertaintyStrategy):
    """Top-k by :func:`entropy` (max entropy)."""

    name: ClassVar[str] = "entropy"
    score_fn = staticmethod(entropy)
