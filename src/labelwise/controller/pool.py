"""A project's samples seen as a feature matrix whose rows are read when the engine asks.

The round engine computes what a strategy needs chunk by chunk (``X[a:b]``), so a pool of a
million samples never needs its features in memory at once: :class:`PoolFeatures` answers each
slice from the project's :class:`~labelwise.controller.features.FeatureSource` (stored rows read
back, missing ones computed once and stored).

The samples are a :class:`~labelwise.store.samples.SampleSnapshot` (ids and states as arrays, the
round's: full records are read only for rows the source must compute) or a list of records.
A slice of a snapshot sorted by id (the order :func:`labelwise.store.list_samples` returns) is
read by one range scan of the stored features' primary key, ``sample_id BETWEEN first AND last``,
instead of a list of ids: an expanded ``IN (...)`` of thousands of ids and a Python step per row
cost about twenty times the read itself (a 1,000,000-item round spent 120 s there). Rows in the
range that the slice does not hold (samples labeled or queued) are read and dropped; the ranges
of successive slices do not overlap, so a pass reads each stored row at most once. Where a row of
the slice has no stored features, the slice goes through the source, which computes and stores
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import bindparam, select

from labelwise.controller.features import FeatureSource, StoredFeatures
from labelwise.store import SampleRecord
from labelwise.store.projects import project_row
from labelwise.store.samples import SampleSnapshot
from labelwise.store.schema import SampleFeature

__all__ = ["PoolFeatures"]

_FLOAT32 = np.dtype("<f4")
#: Stored features of one kind with sample ids in ``[lo, hi]``, by increasing id.
_RANGE = (
    select(SampleFeature.sample_id, SampleFeature.vector)
    .where(
        SampleFeature.project_id == bindparam("project_id"),
        SampleFeature.kind == bindparam("kind"),
        SampleFeature.sample_id.between(bindparam("lo"), bindparam("hi")),
    )
    .order_by(SampleFeature.sample_id)
)


class PoolFeatures:
    """The ``(n, d)`` float32 features of ``samples``, read lazily, slice by slice.

    Supports what the engine and the models use: ``shape``, ``ndim``, ``dtype``, ``len``,
    indexing by a slice or an array of positions, and ``np.asarray`` (all rows).
    """

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(
        self, source: FeatureSource, samples: SampleSnapshot | Sequence[SampleRecord]
    ) -> None:
        self.source = source
        self.samples: SampleSnapshot | list[SampleRecord]
        if isinstance(samples, SampleSnapshot):  # records read only where the source needs them
            self.samples = samples
            self.ids = samples.ids
        else:
            self.samples = list(samples)
            self.ids = np.fromiter((s.id for s in self.samples), dtype=np.int64, count=len(samples))
        self._dim: int | None = None
        self._sorted = bool(np.all(self.ids[1:] > self.ids[:-1]))
        self._project_id: int | None = None

    @property
    def shape(self) -> tuple[int, int]:
        if self._dim is None:
            self._dim = int(self.source(self.samples[:1]).shape[1]) if self.samples else 0
        return (len(self.samples), self._dim)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: Any) -> NDArray[np.float32]:
        if isinstance(key, slice):
            rows = self._stored_slice(key)
            if rows is not None:
                return rows
            chosen = self.samples[key]
        else:
            positions = np.asarray(key)
            if positions.dtype == bool:
                positions = np.flatnonzero(positions)
            chosen = self._records(positions.ravel())
        rows = self.source(chosen)
        if self._dim is None and len(chosen):
            self._dim = int(rows.shape[1])
        return rows

    def _records(self, positions: NDArray[np.integer[Any]]) -> list[SampleRecord]:
        if isinstance(self.samples, SampleSnapshot):
            return self.samples.records(positions)
        return [self.samples[int(i)] for i in positions]

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[Any]:
        rows = self[:] if self.samples else np.empty((0, self.shape[1]), dtype=np.float32)
        return rows if dtype is None else rows.astype(dtype, copy=False)

    def _stored_slice(self, key: slice) -> NDArray[np.float32] | None:
        """The slice's rows by one range read of the stored features; None when the source
        does not store features, the snapshot is not sorted by id, the slice steps, or a row
        of it has no stored features (the caller then asks the source)."""
        source = self.source
        if not (isinstance(source, StoredFeatures) and self._sorted):
            return None
        start, stop, step = key.indices(len(self.ids))
        if step != 1 or stop <= start:
            return None
        wanted = self.ids[start:stop]
        with source.store.read() as session:
            if self._project_id is None:
                self._project_id = project_row(session, source.project).id
            params = {
                "project_id": self._project_id,
                "kind": source.name,
                "lo": int(wanted[0]),
                "hi": int(wanted[-1]),
            }
            result = session.connection().execute(_RANGE, params)
            # the driver's plain tuples (an int and bytes, nothing to process): building a Row
            # per stored row costs a fifth of the pass
            found = result.cursor.fetchall()
            result.close()
        if len(found) < wanted.size:
            return None
        got = np.fromiter((r[0] for r in found), dtype=np.int64, count=len(found))
        where = np.searchsorted(got, wanted)
        if not np.array_equal(got[np.minimum(where, got.size - 1)], wanted):
            return None
        blobs = [r[1] for r in found]
        if got.size != wanted.size:  # rows of the range the slice does not hold: left out
            blobs = [blobs[i] for i in where.tolist()]
        # one copy, into a writeable buffer (as the source's rows are), viewed as the rows
        raw = bytearray().join(blobs)
        dim = len(raw) // (_FLOAT32.itemsize * len(blobs))
        self._dim = dim
        return np.frombuffer(raw, dtype=_FLOAT32).reshape(len(blobs), dim)
