"""Uncertainty sampling over class probabilities (Lewis & Gale 1994; Settles 2009, sec. 3.1).

Each score maps ``proba`` of shape (N, C) to N float64 scores, higher = more informative. The
``kernel`` argument (:data:`Kernel`) picks the scorer:

* the optional C extension ``labelwise.strategies._fused`` ("auto" takes it where it is built
  and takes the array, "compiled" insists on it) reads each row of a C-contiguous float32 or
  float64 array once, in place, validating and scoring it in the same pass, on ``n_jobs``
  threads with the GIL released;
* the numpy kernels ("numpy", and every other layout) test and score cache-sized blocks of rows
  copied transposed to (C, rows) (:func:`~labelwise.strategies.chunking.map_row_blocks`), so
  that each reduction over the classes is C vectorized operations.

Both test each row as they read it (:func:`_row_test`); where a row fails,
:func:`~labelwise.validation.check_proba` raises its message.

Both give the same scores bit for bit, except the compiled entropy (float32 rows only), whose
float32 logarithm (Cephes' logf) differs from numpy's by about 1e-7. Extra memory is the (N,)
result and a few blocks per thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.base import ScoringStrategy, scoring_strategy
from labelwise.strategies.chunking import (
    DEFAULT_CHUNK_SIZE,
    BlockKernel,
    RowBlock,
    map_row_blocks,
    share_pieces,
    threads_for,
)
from labelwise.validation import PROBA_SUM_ATOL, check_proba, check_proba_layout, fast_sum_bounds

_extension: Any
try:
    from labelwise.strategies import _fused as _extension
except ImportError:  # not built: the numpy kernels do the work
    _extension = None

FusedKind = Literal["least_confidence", "margin", "ratio", "entropy"]
#: Which scorer runs: the compiled one where it can ("auto"), always ("compiled"), never ("numpy").
Kernel = Literal["auto", "compiled", "numpy"]
KERNELS: tuple[Kernel, ...] = get_args(Kernel)
_KIND_CODES = {"least_confidence": 0, "margin": 1, "ratio": 2, "entropy": 3}
#: Rows per piece of the compiled scorer handed to a thread.
ROWS_PER_TASK = 1 << 15


def available() -> bool:
    """Whether the compiled scorer was built."""
    return _extension is not None


def check_kernel(kernel: str) -> Kernel:
    """Refuse a ``kernel`` that is not one of :data:`KERNELS`, or "compiled" where it is absent."""
    if kernel not in KERNELS:
        raise InvalidInputError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
    if kernel == "compiled" and not available():
        raise InvalidInputError(
            "kernel='compiled' but labelwise.strategies._fused was not built: build it (a C "
            "compiler at install) or pass kernel='numpy'"
        )
    return kernel


def can_score(p: NDArray[np.floating], kind: FusedKind = "margin") -> bool:
    """Whether the compiled scorer takes ``p`` for ``kind``: built, C-contiguous, 2-D, native
    float32 or float64 (float32 only for the entropy, whose logarithm is float32's)."""
    dtypes = (np.float32,) if kind == "entropy" else (np.float32, np.float64)
    return (
        available()
        and p.ndim == 2
        and p.dtype in dtypes
        and p.dtype.isnative
        and bool(p.flags.c_contiguous)
        and p.shape[1] >= 2
    )


def _row_test(p: NDArray[np.floating]) -> tuple[float, float, bool]:
    """The bounds of the one-pass row test and whether its sums are added in float64: in the
    array's dtype while ``4 C eps`` stays a quarter of the tolerance (float32: up to 524
    classes). A row passes when its sum lies within the bounds and its minimum is >= 0."""
    c = p.shape[1]
    in_double = p.dtype == np.float64 or 16 * c * float(np.finfo(p.dtype).eps) > PROBA_SUM_ATOL
    lo, hi = fast_sum_bounds(c, np.dtype(np.float64) if in_double else p.dtype)
    return lo, hi, in_double


def _compiled_scores(
    p: NDArray[np.floating], kind: FusedKind, n_jobs: int | None
) -> NDArray[np.float64] | None:
    """Validate and score the rows of ``p`` (:func:`can_score` holds) with the C extension;
    None when a row failed the test of :func:`_row_test`."""
    assert _extension is not None
    n = p.shape[0]
    out = np.empty(n, dtype=np.float64)
    n_tasks = -(-n // ROWS_PER_TASK)
    args = (_KIND_CODES[kind], *_row_test(p))

    def run(i: int) -> bool:
        start = i * ROWS_PER_TASK
        return bool(_extension.score(p, out, start, min(start + ROWS_PER_TASK, n), *args))

    passed = share_pieces(n_tasks, threads_for(p.size, n_tasks, n_jobs), lambda: run)
    return out if passed else None


_MINUS_LN2 = -float(np.log(2.0))


def score_rows(
    proba: ArrayLike,
    kind: FusedKind,
    *,
    name: str = "proba",
    n_jobs: int | None = None,
    kernel: Kernel = "auto",
    validate: bool = True,
) -> NDArray[np.float64]:
    """The uncertainty score ``kind`` of every row of ``proba``, validated in the same pass
    (``validate=False``: already checked).

    Where the pass's row test (:func:`_row_test`) fails, :func:`check_proba` raises its message
    (or accepts a row at the tolerance's edge, then scored unchecked by the numpy kernels).
    """
    kernel = check_kernel(kernel)
    p = check_proba_layout(proba, name)
    if p.shape[0] == 0:
        return np.empty(0, dtype=np.float64)
    if kernel != "numpy":
        if can_score(p, kind):
            out = _compiled_scores(p, kind, n_jobs)
            if out is not None:
                return out
        elif kernel == "compiled":
            dtypes = "float32" if kind == "entropy" else "float32 or float64"
            raise InvalidInputError(
                f"kernel='compiled' scores C-contiguous {dtypes} (N, C) arrays, got {p.dtype} "
                f"of shape {p.shape}: pass kernel='auto' or 'numpy', or convert the array"
            )
    score = _BLOCK_KERNELS[kind]
    if validate:
        lo, hi, in_double = _row_test(p)

        def checked(b: RowBlock) -> bool:
            sums = b.out if in_double else b.vec  # scratch, overwritten by the score
            with np.errstate(all="ignore"):  # NaN and infinity fail the test
                np.add.reduce(b.t, axis=0, dtype=sums.dtype, out=sums)
                if not (b.t.min() >= 0.0 and sums.min() >= lo and sums.max() <= hi):
                    return False
            score(b)
            return True

        out = map_row_blocks(checked, p, n_jobs=n_jobs)
        if out is not None:
            return out
        check_proba(p, name)  # raises, unless a row only came near the tolerance's edge
    out = map_row_blocks(score, p, n_jobs=n_jobs)
    assert out is not None  # no test, nothing refused
    return out


def _least_confidence_block(b: RowBlock) -> None:
    np.maximum.reduce(b.t, axis=0, out=b.vec)
    np.subtract(1.0, b.vec, out=b.out, dtype=np.float64)


def _top_two_block(b: RowBlock) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """The largest and second-largest value of each column of ``b.t`` (overwritten), ties kept.

    A knockout: halves paired, winners kept in ``t``, losers in ``b.work``; the second largest
    lost to the champion at some round, so it is the largest loser.
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
    # H = -ln 2 sum_c p_c log2(p_c + tiny): 0 at p = 0; logged in the input's dtype, summed in
    # float64 (float32 rows lose only the log's rounding, about 1e-7).
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


def _score(kind: FusedKind, doc: str) -> Callable[..., NDArray[np.float64]]:
    def score(
        proba: ArrayLike, *, n_jobs: int | None = None, kernel: Kernel = "auto"
    ) -> NDArray[np.float64]:
        return score_rows(proba, kind, n_jobs=n_jobs, kernel=kernel)

    score.__name__ = score.__qualname__ = kind
    score.__doc__ = doc + _PARAMS
    return score


_PARAMS = """

    Parameters
    ----------
    proba : (N, C) class probabilities: finite, in [0, 1], rows summing to one.
    n_jobs : threads sharing the rows (default: the cores this process may use).
    kernel : "auto" (the compiled scorer where it is built and takes the array), "compiled" or
        "numpy".

    Returns
    -------
    (N,) float64 scores, higher = more informative.
    """

least_confidence = _score(
    "least_confidence",
    """``1 - max_c p(c|x)``: how far the most likely class is from certain (Lewis & Gale 1994).

    >>> least_confidence([[0.5, 0.5], [1.0, 0.0]]).tolist()
    [0.5, 0.0]""",
)
margin = _score(
    "margin",
    """``-(p_1 - p_2)``, the negated gap between the two most likely classes (Scheffer 2001).

    In [-1, 0]; ``p_1 >= p_2`` are the two largest probabilities (equal when the top is tied).

    >>> margin([[0.5, 0.3, 0.2]]).round(6).tolist()
    [-0.2]""",
)
ratio = _score(
    "ratio",
    """``p_2 / p_1``, the ratio of the second to the most likely class probability, in [0, 1].

    >>> ratio([[0.5, 0.25, 0.25]]).tolist()
    [0.5]""",
)
entropy = _score(
    "entropy",
    """Shannon entropy ``H[p] = -sum_c p_c log p_c`` in nats (0 log 0 = 0); uniform gives log C.

    Settles 2009, eq. 3.3 (after Shannon 1948).

    >>> round(float(entropy([[0.25, 0.25, 0.25, 0.25]])[0]), 6)
    1.386294""",
)


class UncertaintyStrategy(ScoringStrategy):
    """Top-k by an uncertainty score of ``proba``.

    Parameters
    ----------
    kernel : "auto", "compiled" or "numpy": which scorer runs (see the module docstring).
    chunk_size, n_jobs : see :class:`~labelwise.strategies.base.ScoringStrategy`.
    """

    input_name = "proba"
    streams = True

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


LeastConfidence = scoring_strategy(
    "LeastConfidence", "least_confidence", "proba", least_confidence, UncertaintyStrategy
)
Margin = scoring_strategy("Margin", "margin", "proba", margin, UncertaintyStrategy)
Ratio = scoring_strategy("Ratio", "ratio", "proba", ratio, UncertaintyStrategy)
Entropy = scoring_strategy("Entropy", "entropy", "proba", entropy, UncertaintyStrategy)
