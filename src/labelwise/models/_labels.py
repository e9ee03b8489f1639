"""The label space of a model adapter: checking labels and mapping them to probability columns."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError, NotFittedError


def check_classes(classes: ArrayLike) -> NDArray[Any]:
    """A 1-D array of at least two distinct labels, in the order the columns will follow."""
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.size < 2:
        raise InvalidInputError(f"classes must list at least 2 labels, got {arr.tolist()!r}")
    if np.unique(arr).size != arr.size:
        raise InvalidInputError(f"classes must be distinct, got {arr.tolist()!r}")
    return arr


def check_labels(y: ArrayLike, n_rows: int) -> NDArray[Any]:
    """A 1-D label vector with one label per row of X."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InvalidInputError(f"y must be 1-dimensional, got shape {arr.shape}")
    if arr.size != n_rows:
        raise InvalidInputError(f"X has {n_rows} rows but y has {arr.size} labels")
    if arr.size == 0:
        raise InvalidInputError("cannot fit on an empty labeled set: teach some labels first")
    return arr


def encode_labels(y: NDArray[Any], classes: NDArray[Any]) -> NDArray[np.intp]:
    """Column index of each label in ``classes``; refuse labels outside the label space."""
    order = np.argsort(classes, kind="stable")
    try:
        pos = np.searchsorted(classes, y, sorter=order)
        codes = order[np.clip(pos, 0, classes.size - 1)]
        known = np.asarray(classes[codes] == y, dtype=bool)
    except TypeError:  # labels of a type that cannot be compared with the classes
        codes = np.zeros(y.shape, dtype=np.intp)
        known = np.zeros(y.shape, dtype=bool)
    if not np.all(known):
        unknown = sorted({str(v) for v in np.asarray(y)[~known]})[:5]
        raise InvalidInputError(
            f"label(s) {', '.join(unknown)} are not in classes={classes.tolist()!r}: "
            "fix the labels or declare the full label space in classes"
        )
    return codes.astype(np.intp)


def n_rows(X: Any) -> int:
    """Number of items in X (an array, a sparse matrix, a tensor or a sequence)."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        kind = type(X).__name__
        raise InvalidInputError(f"X must be an array or a sequence, got {kind}") from None


def require_fitted(model: object, attribute: str = "classes_") -> None:
    """Raise :class:`NotFittedError` unless ``fit`` has set ``attribute``."""
    if not hasattr(model, attribute):
        raise NotFittedError(
            f"{type(model).__name__} is not fitted yet: call fit(X, y) before predicting"
        )
