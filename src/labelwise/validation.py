"""Validation at the edge, once (as ``sklearn.utils.validation``): the checks every package
applies to what a caller hands it (probabilities, matrices, batch sizes, exclusion masks, random
generators). What passes is trusted by the kernels behind.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._random import check_rng as check_rng  # re-exported: one rule for rng
from labelwise.errors import BatchSizeError, InvalidInputError

__all__ = [
    "PROBA_SUM_ATOL",
    "check_batch_size",
    "check_exclude",
    "check_finite",
    "check_matrix",
    "check_matrix_with_norms",
    "check_positive_int",
    "check_proba",
    "check_proba_layout",
    "check_rng",
    "check_scores",
    "row_sq_norms",
]

#: Rows of a probability matrix must sum to one within this tolerance (float32 friendly).
PROBA_SUM_ATOL = 1e-3

FloatArray = NDArray[np.floating]
IntArray = NDArray[np.intp]


def _as_float(array: ArrayLike, name: str, ndim: int) -> FloatArray:
    arr = np.asarray(array)
    if arr.dtype.kind not in "fiu":
        raise InvalidInputError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise InvalidInputError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def check_finite(arr: FloatArray, name: str) -> None:
    """Refuse NaN and infinity with a message naming the array."""
    if not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InvalidInputError(f"{name} contains {bad} NaN or infinite value(s)")


def check_proba_layout(proba: ArrayLike, name: str = "proba", ndim: int = 2) -> FloatArray:
    """The dtype and shape half of :func:`check_proba` (a floating array, at least 2 classes),
    for kernels that check the values as they read the rows."""
    arr = _as_float(proba, name, ndim)
    if arr.shape[-1] < 2:
        raise InvalidInputError(f"{name} needs at least 2 classes, got shape {arr.shape}")
    return arr


def fast_sum_bounds(n_classes: int, dtype: np.dtype[Any]) -> tuple[float, float]:
    """Row sums, added in ``dtype``, that are surely within ``PROBA_SUM_ATOL`` of one:
    ``1 +- (PROBA_SUM_ATOL - 4 C eps)``, so that the sum's rounding cannot let a bad row in."""
    slack = PROBA_SUM_ATOL - 4 * n_classes * float(np.finfo(dtype).eps)
    return 1.0 - slack, 1.0 + slack


def check_proba(proba: ArrayLike, name: str = "proba", ndim: int = 2) -> FloatArray:
    """Check class probabilities whose last axis holds the classes.

    Parameters
    ----------
    proba : array of shape (N, C), or (K, N, C) with ``ndim=3``
        Probabilities: finite, in [0, 1], each row summing to one within ``PROBA_SUM_ATOL``.

    Returns
    -------
    The same data as a floating array (no copy when it already is one).

    The row sums are one pass in the array's dtype; only where one of them is near the
    tolerance's edge (or the array holds a negative value or NaN) are they summed again in
    float64, which decides and names the problem.
    """
    arr = check_proba_layout(proba, name, ndim)
    if arr.size == 0:
        return arr
    with np.errstate(all="ignore"):  # NaN and infinity fail the test below
        sums = np.einsum("...c->...", arr)  # in the array's dtype, one pass, no BLAS threads
    lo, hi = fast_sum_bounds(arr.shape[-1], arr.dtype)
    if bool(sums.min() >= lo) and bool(sums.max() <= hi) and bool(arr.min() >= 0.0):
        return arr
    with np.errstate(all="ignore"):
        sums = arr.sum(axis=-1, dtype=np.float64)
    ok = np.abs(sums - 1.0) <= PROBA_SUM_ATOL
    if not ok.all():
        check_finite(arr, name)
        worst = float(sums[~ok].flat[0])
        raise InvalidInputError(
            f"{name} rows must sum to 1 (one row sums to {worst:.4g}): apply softmax first"
        )
    if arr.min() < 0.0 or arr.max() > 1.0 + PROBA_SUM_ATOL:
        raise InvalidInputError(f"{name} must lie in [0, 1]: are these logits, not probabilities?")
    return arr


def check_matrix(x: ArrayLike, name: str) -> FloatArray:
    """Check a finite 2-D float matrix such as embeddings."""
    arr = _as_float(x, name, 2)
    check_finite(arr, name)
    return arr


def row_sq_norms(X: NDArray[np.floating]) -> NDArray[np.float64]:
    """``|x_i|^2`` of every row in float64, block by block (no float64 copy of ``X``)."""
    out = np.empty(X.shape[0], dtype=np.float64)
    rows = max(1, (1 << 18) // max(1, X.shape[1]))
    for start in range(0, X.shape[0], rows):
        chunk = np.asarray(X[start : start + rows], dtype=np.float64)
        out[start : start + rows] = np.einsum("ij,ij->i", chunk, chunk)
    return out


def check_matrix_with_norms(
    x: ArrayLike, name: str
) -> tuple[NDArray[np.floating], NDArray[np.float64]]:
    """:func:`check_matrix` (with features) and the row squared norms, in one blocked pass:
    a NaN or infinity shows up in the norms."""
    arr = _as_float(x, name, 2)
    if arr.shape[1] == 0:
        raise InvalidInputError(f"{name} has no features (shape {arr.shape})")
    norms = row_sq_norms(arr)
    if not np.isfinite(norms).all():
        check_finite(arr, name)
        raise InvalidInputError(f"{name} is too large: its squared norms overflow; rescale it")
    return arr, norms


def check_scores(scores: ArrayLike, name: str = "scores") -> FloatArray:
    """Check a finite 1-D score vector."""
    arr = _as_float(scores, name, 1)
    check_finite(arr, name)
    return arr


def check_positive_int(value: int, name: str) -> int:
    """Refuse a parameter that is not a positive int (bools too), naming it."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidInputError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def check_batch_size(batch_size: int, n_available: int) -> int:
    """Refuse a batch size that is not a positive int or exceeds what can be selected."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise BatchSizeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size < 1:
        raise BatchSizeError(f"batch_size must be at least 1, got {batch_size}")
    if batch_size > n_available:
        raise BatchSizeError(
            f"batch_size={batch_size} exceeds the {n_available} pool item(s) that can be "
            "selected: lower the batch size or add unlabeled data"
        )
    return int(batch_size)


def check_exclude(exclude: ArrayLike | None, n_pool: int) -> NDArray[np.bool_]:
    """Turn pool indices (or a boolean mask) that must not be selected into a boolean mask."""
    mask = np.zeros(n_pool, dtype=bool)
    if exclude is None:
        return mask
    arr = np.asarray(exclude)
    if arr.dtype == bool:
        if arr.shape != (n_pool,):
            raise InvalidInputError(f"exclude mask must have shape ({n_pool},), got {arr.shape}")
        return arr.copy()
    if arr.size == 0:
        return mask
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise InvalidInputError("exclude must be a 1-D array of pool indices or a boolean mask")
    if arr.min() < 0 or arr.max() >= n_pool:
        raise InvalidInputError(f"exclude holds indices outside the pool of {n_pool} items")
    mask[arr] = True
    return mask
