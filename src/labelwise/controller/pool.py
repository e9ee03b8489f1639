"""A project's samples seen as a feature matrix whose rows are read when the engine asks.

The round engine computes what a strategy needs chunk by chunk (``X[a:b]``), so a pool of a
million samples never needs its features in memory at once: :class:`PoolFeatures` answers each
slice from the project's :class:`~labelwise.controller.features.FeatureSource` (stored rows read
back, missing ones computed once and stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.controller.features import FeatureSource
from labelwise.store import SampleRecord

__all__ = ["PoolFeatures"]


class PoolFeatures:
    """The ``(n, d)`` float32 features of ``samples``, read lazily, slice by slice.

    Supports what the engine and the models use: ``shape``, ``ndim``, ``dtype``, ``len``,
    indexing by a slice or an array of positions, and ``np.asarray`` (all rows).
    """

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, source: FeatureSource, samples: Sequence[SampleRecord]) -> None:
        self.source = source
        self.samples = list(samples)
        self._dim: int | None = None

    @property
    def shape(self) -> tuple[int, int]:
        if self._dim is None:
            self._dim = int(self.source(self.samples[:1]).shape[1]) if self.samples else 0
        return (len(self.samples), self._dim)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: Any) -> NDArray[np.float32]:
        if isinstance(key, slice):
            chosen = self.samples[key]
        else:
            positions = np.asarray(key)
            if positions.dtype == bool:
                positions = np.flatnonzero(positions)
            chosen = [self.samples[int(i)] for i in positions.ravel()]
        rows = self.source(chosen)
        if self._dim is None and len(chosen):
            self._dim = int(rows.shape[1])
        return rows

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[Any]:
        rows = self.source(self.samples) if self.samples else np.empty((0, self.shape[1]))
        return rows if dtype is None else rows.astype(dtype, copy=False)
