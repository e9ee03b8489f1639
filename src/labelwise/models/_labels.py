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


def check_targets(y: ArrayLike, n_rows: int, task: str = "classification") -> NDArray[Any]:
    """The labeled set's answers for a task type: one per row of X.

    classification: a 1-D label vector (:func:`check_labels`); regression: a 1-D vector of finite
    numbers; multilabel: a 2-D 0/1 indicator matrix, one column per label.
    """
    if task == "classification":
        return check_labels(y, n_rows)
    if task == "sequence":
        return _tag_sequences(y, n_rows)
    arr = np.asarray(y)
    if task == "regression":
        if arr.ndim != 1:
            raise InvalidInputError(
                f"regression targets must be 1-dimensional (one number per row), got shape "
                f"{arr.shape}"
            )
        arr = _finite_numbers(arr, "regression targets")
    elif task == "multilabel":
        if arr.ndim != 2:
            raise InvalidInputError(
                f"multi-label targets must be a 2-D 0/1 matrix (rows x labels), got shape "
                f"{arr.shape}"
            )
        arr = _finite_numbers(arr, "multi-label targets")
        if not np.isin(arr, (0, 1)).all():
            raise InvalidInputError("multi-label targets must hold only 0 and 1")
        arr = arr.astype(np.int64)
    else:
        raise InvalidInputError(
            f"unknown task type {task!r}: use classification, regression, multilabel or sequence"
        )
    if arr.shape[0] != n_rows:
        raise InvalidInputError(f"X has {n_rows} rows but y has {arr.shape[0]} rows")
    if arr.shape[0] == 0:
        raise InvalidInputError("cannot fit on an empty labeled set: teach some labels first")
    return arr


def _tag_sequences(y: Any, n_rows: int) -> NDArray[np.object_]:
    """Sequence labeling's answers: one tuple of string tags per sequence, as an object array."""
    if isinstance(y, str | bytes) or not hasattr(y, "__len__"):
        raise InvalidInputError("sequence targets must be one list of tags per sequence")
    if len(y) != n_rows:
        raise InvalidInputError(f"X has {n_rows} sequences but y has {len(y)} tag sequences")
    if n_rows == 0:
        raise InvalidInputError("cannot fit on an empty labeled set: teach some labels first")
    out = np.empty(n_rows, dtype=object)
    for i, tags in enumerate(y):
        if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
            raise InvalidInputError(f"sequence {i}'s tags must be a list of strings")
        out[i] = tuple(tags)
    return out


def _finite_numbers(arr: NDArray[Any], what: str) -> NDArray[np.float64]:
    if arr.dtype.kind not in "fiub":
        raise InvalidInputError(f"{what} must be numbers, got dtype {arr.dtype}")
    out = arr.astype(np.float64, copy=False)
    if not np.isfinite(out).all():
        raise InvalidInputError(f"{what} contain NaN or infinite values")
    return out


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
