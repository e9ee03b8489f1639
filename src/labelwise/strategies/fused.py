"""The compiled one-pass scorer of the uncertainty scores (an optional C extension).

``labelwise.strategies._fused`` reads each row of a C-contiguous (N, C) float32 or float64
array once, in place, and gets both the fast validation (row sum, minimum) and the score from
that one read; ``n_jobs`` threads share the rows with the GIL released. The transposed-block
numpy kernels of :mod:`labelwise.strategies.uncertainty` do the same work wherever the extension
was not built (it is optional at install) and for other layouts.

Which one runs is the ``kernel`` argument of the uncertainty scores (:data:`Kernel`): ``"auto"``
takes the compiled scorer where it is built and takes the array, ``"compiled"`` insists on it,
``"numpy"`` never uses it. Least confidence, margin and ratio give the numpy kernels' scores bit
for bit. The entropy (float32 rows only) takes its logarithm from a vectorized float32
polynomial (Cephes' logf, relative error about 1e-7) instead of numpy's and sums in float64 as
numpy's path does: the two differ by about 1e-7, the rounding of the float32 logarithm.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.chunking import share_pieces, threads_for
from labelwise.strategies.validation import fast_sum_bounds, proba_sums_dtype

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
#: Rows per piece handed to a thread.
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
    """Whether :func:`fused_scores` takes ``p`` for ``kind``: built, C-contiguous, 2-D, float32
    or float64 (float32 only for the entropy, whose logarithm is float32's)."""
    dtypes = (np.float32,) if kind == "entropy" else (np.float32, np.float64)
    return (
        available()
        and p.ndim == 2
        and p.dtype in dtypes
        and p.dtype.isnative
        and bool(p.flags.c_contiguous)
        and p.shape[1] >= 2
    )


def use_compiled(p: NDArray[np.floating], kind: FusedKind, kernel: Kernel) -> bool:
    """Whether ``kernel`` picks the compiled scorer for ``p``; "compiled" refuses an array it
    cannot take."""
    if kernel == "numpy":
        return False
    takes = can_score(p, kind)
    if kernel == "compiled" and not takes:
        dtypes = "float32" if kind == "entropy" else "float32 or float64"
        raise InvalidInputError(
            f"kernel='compiled' scores C-contiguous {dtypes} (N, C) arrays, got {p.dtype} "
            f"of shape {p.shape}: pass kernel='auto' or 'numpy', or convert the array"
        )
    return takes


def fused_scores(
    p: NDArray[np.floating], kind: FusedKind, *, n_jobs: int | None = None
) -> NDArray[np.float64] | None:
    """Validate and score the rows of ``p`` (:func:`can_score` must hold) in one pass.

    Returns the (N,) float64 scores, or None when a row failed the fast test (a negative or NaN
    value, or a sum outside :func:`~labelwise.strategies.validation.fast_sum_bounds`): the
    caller then runs the exact check, which raises or, for a row at the tolerance's edge,
    accepts.
    """
    assert _extension is not None and can_score(p, kind)
    n, c = p.shape
    sums_dtype = proba_sums_dtype(c, p.dtype)
    lo, hi = fast_sum_bounds(c, sums_dtype)
    sum_in_double = p.dtype == np.float32 and sums_dtype == np.float64
    code = _KIND_CODES[kind]
    out = np.empty(n, dtype=np.float64)
    n_tasks = -(-n // ROWS_PER_TASK)
    score = _extension.score

    def run(i: int) -> bool:
        start = i * ROWS_PER_TASK
        return bool(
            score(p, out, start, min(start + ROWS_PER_TASK, n), code, lo, hi, sum_in_double)
        )

    passed = share_pieces(n_tasks, threads_for(p.size, n_tasks, n_jobs), lambda: run)
    return out if passed else None
