"""Quality control of numeric annotations (regression targets typed by annotators).

Annotations arrive as a long table: ``items`` (M,) item indices, ``annotators`` (M,) annotator
indices, ``values`` (M,) the numbers they gave. Aggregation takes the median (robust to one
careless annotator) or the mean per item; agreement is Krippendorff's alpha with the interval
metric ``(c - k)^2``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.quality.agreement import krippendorff_alpha

__all__ = ["aggregate_numbers", "check_numeric_answer", "numeric_alpha"]

FloatArray = NDArray[np.float64]


def _check_table(items: ArrayLike, values: ArrayLike) -> tuple[NDArray[np.intp], FloatArray]:
    idx = np.asarray(items)
    val = np.asarray(values)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu" or idx.min() < 0:
        raise InvalidInputError("items must be a non-empty 1-D array of item indices >= 0")
    if val.shape != idx.shape or val.dtype.kind not in "iuf":
        raise InvalidInputError(f"values must hold one number per annotation, got {val.shape}")
    out = val.astype(np.float64)
    if not np.isfinite(out).all():
        raise InvalidInputError("values contain NaN or infinite numbers")
    return idx.astype(np.intp), out


def aggregate_numbers(
    items: ArrayLike,
    values: ArrayLike,
    method: Literal["median", "mean"] = "median",
    n_items: int | None = None,
) -> FloatArray:
    """One number per item: the median (default) or the mean of its answers.

    Returns
    -------
    (n_items,) floats; every item needs at least one answer.

    >>> aggregate_numbers([0, 0, 0, 1], [1.0, 2.0, 9.0, 4.0]).tolist()
    [2.0, 4.0]
    """
    idx, val = _check_table(items, values)
    n = int(idx.max()) + 1 if n_items is None else int(n_items)
    if idx.max() >= n:
        raise InvalidInputError(f"items hold indices beyond n_items={n}")
    if method not in ("median", "mean"):
        raise InvalidInputError(f"method must be 'median' or 'mean', got {method!r}")
    counts = np.bincount(idx, minlength=n)
    if (counts == 0).any():
        missing = int(np.flatnonzero(counts == 0)[0])
        raise InvalidInputError(f"item {missing} has no answer: aggregate answered items only")
    if method == "mean":
        return np.bincount(idx, weights=val, minlength=n) / counts
    order = np.lexsort((val, idx))  # by item, then value
    sorted_values = val[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    low = sorted_values[starts + (counts - 1) // 2]
    high = sorted_values[starts + counts // 2]
    return np.asarray((low + high) / 2.0, dtype=np.float64)


def numeric_alpha(items: ArrayLike, annotators: ArrayLike, values: ArrayLike) -> float:
    """Krippendorff's alpha, interval metric, of numeric answers (one per annotator and item;
    a repeated answer keeps the last). NaN when all pairable answers are equal."""
    idx, val = _check_table(items, values)
    who = np.asarray(annotators)
    if who.shape != idx.shape or who.dtype.kind not in "iu" or (who.size and who.min() < 0):
        raise InvalidInputError("annotators must hold one annotator index >= 0 per annotation")
    matrix = np.full((int(who.max()) + 1, int(idx.max()) + 1), np.nan)
    matrix[who, idx] = val
    return krippendorff_alpha(matrix, level="interval", missing=None)


def check_numeric_answer(
    value: float, low: float | None = None, high: float | None = None, step: float | None = None
) -> float:
    """An annotator's number, checked against the project's bounds and step.

    ``step`` counts from ``low`` (or 0): 0.5 accepts 1.0 and 1.5, not 1.2 (within 1e-9 of a
    step). Raises :class:`~labelwise.errors.InvalidInputError` naming the rule broken.
    """
    number = float(value)
    if not np.isfinite(number):
        raise InvalidInputError("the answer must be a finite number")
    if low is not None and number < low:
        raise InvalidInputError(f"the answer {number:g} is below the minimum {low:g}")
    if high is not None and number > high:
        raise InvalidInputError(f"the answer {number:g} is above the maximum {high:g}")
    if step is not None:
        if step <= 0:
            raise InvalidInputError(f"step must be positive, got {step:g}")
        offset = (number - (low or 0.0)) / step
        if abs(offset - round(offset)) > 1e-9 * max(1.0, abs(offset)):
            raise InvalidInputError(f"the answer {number:g} is not a multiple of the step {step:g}")
    return number
