"""The :class:`Dataset` every loader returns: features, integer labels, class names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError


@dataclass(frozen=True)
class Dataset:
    """A labeled dataset, ready for a simulated active-learning run.

    Parameters
    ----------
    name : short name (``"digits"``, ``"fashion_mnist"``, or the file's stem).
    X : (N, d) float features (images flattened; see ``image_shape``).
    y : (N,) integer labels in ``0 .. C - 1``.
    class_names : the name of each label code, length C.
    X_test, y_test : a fixed, published test split where the dataset has one (MNIST,
        Fashion-MNIST); ``None`` otherwise, and the simulation draws a test split per seed.
    image_shape : (channels, height, width) of each row of ``X`` for convolutional models.
    texts : the raw texts behind the rows of ``X`` for text datasets (embeddings in ``X``).
    """

    name: str
    X: NDArray[np.floating]
    y: NDArray[np.intp]
    class_names: tuple[str, ...]
    X_test: NDArray[np.floating] | None = None
    y_test: NDArray[np.intp] | None = None
    image_shape: tuple[int, ...] | None = None
    texts: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_labeled(self.X, self.y, self.class_names, self.name)
        if (self.X_test is None) != (self.y_test is None):
            raise InvalidInputError(f"{self.name}: give both X_test and y_test, or neither")
        if self.X_test is not None and self.y_test is not None:
            check_labeled(self.X_test, self.y_test, self.class_names, f"{self.name} (test)")
            if self.X_test.shape[1:] != self.X.shape[1:]:
                raise InvalidInputError(
                    f"{self.name}: test features {self.X_test.shape} do not match {self.X.shape}"
                )

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return len(self.class_names)

    @property
    def has_test_split(self) -> bool:
        """Whether the dataset comes with a fixed test split."""
        return self.X_test is not None

    def __repr__(self) -> str:
        test = f", test={len(self.X_test)}" if self.X_test is not None else ""
        return (
            f"Dataset({self.name!r}, n={len(self.X)}, d={self.X.shape[1]}, "
            f"classes={self.n_classes}{test})"
        )


def check_labeled(X: Any, y: Any, class_names: tuple[str, ...], name: str) -> None:
    """Refuse features and labels that disagree in length, or labels outside the class codes."""
    if np.ndim(X) != 2:
        raise InvalidInputError(f"{name}: X must be 2-D (N, d), got shape {np.shape(X)}")
    if np.ndim(y) != 1 or len(y) != len(X):
        raise InvalidInputError(
            f"{name}: y must be 1-D with one label per row of X ({len(X)}), got {np.shape(y)}"
        )
    if len(y) and (np.min(y) < 0 or np.max(y) >= len(class_names)):
        raise InvalidInputError(
            f"{name}: labels must be codes 0..{len(class_names) - 1} of the class names"
        )


def encode_labels(labels: Any) -> tuple[NDArray[np.intp], tuple[str, ...]]:
    """Turn any label column into codes ``0..C-1`` and the sorted class names."""
    values = np.asarray(labels)
    if values.size and values.dtype.kind == "f" and not np.isfinite(values).all():
        raise InvalidInputError("the label column holds missing values: drop those rows first")
    if values.dtype == object and any(v is None for v in values):
        raise InvalidInputError("the label column holds missing values: drop those rows first")
    classes, codes = np.unique(values, return_inverse=True)
    if classes.size < 2:
        raise InvalidInputError(f"need at least 2 classes, the label column holds {classes.size}")
    return codes.astype(np.intp), tuple(str(c) for c in classes)
