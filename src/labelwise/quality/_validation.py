"""Validation at the edge of quality control: the long annotation table and its companions.

An *annotation table* is an int array of shape (M, 3) whose rows are ``(item, annotator, label)``,
all zero-based indices: items in ``[0, n_items)``, annotators in ``[0, n_annotators)``, labels in
``[0, n_classes)``. Build one from three columns with ``np.column_stack([items, annotators,
labels])``. The same annotator may label an item more than once (Dawid & Skene's first observer
rated every patient three times); each row then counts once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class AnnotationTable:
    """A checked annotation table split into its columns, with the sizes it spans."""

    items: IntArray
    annotators: IntArray
    labels: IntArray
    n_items: int
    n_annotators: int
    n_classes: int


def check_count(value: int, name: str, minimum: int = 1) -> int:
    """Refuse a count that is not an int of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidInputError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_column(column: IntArray, name: str, size: int | None, size_name: str) -> int:
    """Check one index column against its declared size; return the size it spans."""
    if column.size and column.min() < 0:
        raise InvalidInputError(f"{name} must be non-negative indices, found {column.min()}")
    spanned = int(column.max()) + 1 if column.size else 0
    if size is None:
        return spanned
    size = check_count(size, size_name)
    if spanned > size:
        raise InvalidInputError(
            f"{name} holds index {spanned - 1}, outside {size_name}={size}: map ids to "
            f"0..{size_name}-1 first or raise {size_name}"
        )
    return size


def check_annotations(
    annotations: ArrayLike,
    n_classes: int,
    n_items: int | None = None,
    n_annotators: int | None = None,
) -> AnnotationTable:
    """Check an (M, 3) table of ``(item, annotator, label)`` rows and split it into columns.

    Parameters
    ----------
    annotations : int array of shape (M, 3), M >= 1
    n_classes : int
        Labels must lie in ``[0, n_classes)``; at least 2.
    n_items, n_annotators : int, optional
        Sizes of the index spaces; by default one more than the largest index present.

    Raises
    ------
    InvalidInputError
        On a wrong shape or dtype, an empty table, or an index out of range.
    """
    arr = np.asarray(annotations)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InvalidInputError(
            f"annotations must have shape (M, 3) with rows (item, annotator, label), got "
            f"shape {arr.shape}: use np.column_stack([items, annotators, labels])"
        )
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.isfinite(arr).all() and (arr % 1 == 0).all():
            arr = arr.astype(np.intp)
        else:
            raise InvalidInputError(
                f"annotations must hold integer indices, got dtype {arr.dtype}: encode labels "
                "as 0..n_classes-1 and drop missing rows"
            )
    if arr.shape[0] == 0:
        raise InvalidInputError("annotations is empty: there is nothing to score or aggregate")
    n_classes = check_count(n_classes, "n_classes", minimum=2)
    items, annotators, labels = (np.ascontiguousarray(arr[:, j], dtype=np.intp) for j in range(3))
    n_items = _check_column(items, "item column", n_items, "n_items")
    n_annotators = _check_column(annotators, "annotator column", n_annotators, "n_annotators")
    _check_column(labels, "label column", n_classes, "n_classes")
    return AnnotationTable(items, annotators, labels, n_items, n_annotators, n_classes)


def check_annotator_weights(weights: ArrayLike, n_annotators: int) -> FloatArray:
    """Check one finite, non-negative weight per annotator."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_annotators,):
        raise InvalidInputError(
            f"weights must have one entry per annotator, shape ({n_annotators},), got {w.shape}"
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise InvalidInputError("weights must be finite and non-negative")
    return w


def vote_counts(table: AnnotationTable, weights: FloatArray | None = None) -> FloatArray:
    """``n[i, c]``: the (weighted) number of votes item ``i`` received for class ``c``."""
    w = None if weights is None else weights[table.annotators]
    flat = table.items * table.n_classes + table.labels
    counts = np.bincount(flat, weights=w, minlength=table.n_items * table.n_classes)
    return counts.reshape(table.n_items, table.n_classes).astype(np.float64)
