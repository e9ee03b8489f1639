"""A user's own data: CSV, Parquet, ``.npy`` or ``.npz`` with a label column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from labelwise.datasets.base import Dataset, encode_labels
from labelwise.errors import InvalidInputError

FILE_SUFFIXES = (".csv", ".parquet", ".pq", ".npy", ".npz")


def is_data_file(name: str | Path) -> bool:
    """Whether ``name`` names a file that :func:`load_file` reads (by its suffix)."""
    return Path(name).suffix.lower() in FILE_SUFFIXES


def load_file(path: str | Path, label_column: str = "label") -> Dataset:
    """Load features and labels from a file.

    Parameters
    ----------
    path : a ``.csv`` or ``.parquet`` table (every column but ``label_column`` must be numeric),
        a ``.npz`` archive with arrays ``X`` and ``y`` (or ``X`` and an array named
        ``label_column``), or a 2-D ``.npy`` array whose label column is the one at index
        ``label_column`` (an integer, ``-1`` for the last; ``"label"`` means the last).
    label_column : the column (or array) holding the labels.

    Returns
    -------
    A :class:`Dataset` named after the file's stem, labels encoded as ``0..C-1``.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"no such data file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet", ".pq"):
        X, labels = _read_table(path, label_column)
    elif suffix == ".npz":
        X, labels = _read_npz(path, label_column)
    elif suffix == ".npy":
        X, labels = _read_npy(path, label_column)
    else:
        raise InvalidInputError(f"{path}: unsupported file type; use one of {FILE_SUFFIXES}")
    codes, names = encode_labels(labels)
    features = np.asarray(X, dtype=np.float64)
    if features.ndim != 2:
        features = features.reshape(len(features), -1)
    if not np.isfinite(features).all():
        raise InvalidInputError(f"{path}: the features hold missing or infinite values")
    return Dataset(name=path.stem, X=features, y=codes, class_names=names)


def _read_table(path: Path, label_column: str) -> tuple[Any, Any]:
    import pandas as pd

    frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    if label_column not in frame.columns:
        raise InvalidInputError(
            f"{path}: no label column {label_column!r}; columns are {list(frame.columns)[:20]} "
            "(pass --label-column)"
        )
    features = frame.drop(columns=[label_column])
    bad = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if bad:
        raise InvalidInputError(
            f"{path}: feature columns must be numeric; these are not: {bad[:10]}"
        )
    return features.to_numpy(dtype=np.float64), frame[label_column].to_numpy()


def _read_npz(path: Path, label_column: str) -> tuple[Any, Any]:
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
        label_key = label_column if label_column in keys else "y"
        if "X" not in keys or label_key not in keys:
            raise InvalidInputError(
                f"{path}: a .npz needs arrays 'X' and 'y' (or {label_column!r}); "
                f"it has {sorted(keys)}"
            )
        return archive["X"], archive[label_key]


def _read_npy(path: Path, label_column: str) -> tuple[Any, Any]:
    data = np.load(path, allow_pickle=False)
    if data.ndim != 2 or data.shape[1] < 2:
        raise InvalidInputError(f"{path}: a .npy must be 2-D with features and a label column")
    try:
        column = -1 if label_column == "label" else int(label_column)
    except ValueError:
        raise InvalidInputError(
            f"{path}: for a .npy the label column is an integer index, got {label_column!r}"
        ) from None
    column %= data.shape[1]
    return np.delete(data, column, axis=1), data[:, column]
