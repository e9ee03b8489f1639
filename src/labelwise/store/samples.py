"""Reading samples back: the pool for scoring, the labeled set for training."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import bindparam, select

from labelwise.store.engine import Store
from labelwise.store.projects import project_row
from labelwise.store.schema import Label, Sample, SampleState, Split

__all__ = ["SampleRecord", "SampleSnapshot", "labeled_set", "list_samples", "sample_snapshot"]


@dataclass(frozen=True)
class SampleRecord:
    id: int
    external_id: str
    text: str | None
    uri: str | None
    split: str
    state: str


def list_samples(
    store: Store,
    project: str,
    *,
    split: Split | None = None,
    state: SampleState | None = None,
) -> list[SampleRecord]:
    """The project's samples in store order, optionally of one split and one state."""
    with store.read() as session:
        row = project_row(session, project)
        query = select(
            Sample.id, Sample.external_id, Sample.text, Sample.uri, Sample.split, Sample.state
        ).where(Sample.project_id == row.id)
        if split is not None:
            query = query.where(Sample.split == split)
        if state is not None:
            query = query.where(Sample.state == state)
        return [SampleRecord(*values) for values in session.execute(query.order_by(Sample.id))]


#: Samples read back per query when a snapshot's records are asked for.
_RECORD_BATCH = 1000
_RECORDS = select(
    Sample.id, Sample.external_id, Sample.text, Sample.uri, Sample.split, Sample.state
).where(Sample.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, eq=False)
class SampleSnapshot(Sequence[SampleRecord]):
    """The ids and states of a project's samples at one moment, in store order, as arrays.

    What a round over a large pool needs of its samples is their ids and states; building a
    :class:`SampleRecord` (and reading a text) per sample of a million costs seconds and hundreds
    of megabytes. A snapshot holds two arrays and reads full records only when asked, by batch
    (:meth:`records`, slicing, iteration); a record's ``state`` is the one of the snapshot.

    Attributes
    ----------
    store : Store
        Where the records are read from when asked.
    ids : ndarray of int64, shape (n,)
        The samples' ids, increasing.
    states : ndarray of str, shape (n,)
        Their states when the snapshot was taken.
    """

    store: Store
    ids: NDArray[np.int64]
    states: NDArray[np.str_]
    _cache: dict[int, SampleRecord] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.ids.shape != self.states.shape or self.ids.ndim != 1:
            raise ValueError(
                f"a snapshot's ids and states must be two 1-d arrays of one length, got "
                f"shapes {self.ids.shape} and {self.states.shape}"
            )

    def __len__(self) -> int:
        return int(self.ids.size)

    @overload
    def __getitem__(self, key: int) -> SampleRecord: ...

    @overload
    def __getitem__(self, key: slice) -> list[SampleRecord]: ...

    def __getitem__(self, key: Any) -> SampleRecord | list[SampleRecord]:
        if isinstance(key, slice):
            return self.records(np.arange(len(self))[key])
        position = operator.index(key)
        if not -len(self) <= position < len(self):
            raise IndexError(f"position {position} is outside a snapshot of {len(self)} samples")
        position %= len(self)
        record = self._cache.get(position)
        if record is None:
            record = self.records([position])[0]
            self._cache[position] = record
        return record

    def __iter__(self) -> Iterator[SampleRecord]:
        for start in range(0, len(self), _RECORD_BATCH):
            yield from self.records(np.arange(start, min(start + _RECORD_BATCH, len(self))))

    def where_state(self, *states: str) -> SampleSnapshot:
        """The samples of the snapshot in one of ``states``, in the same order."""
        keep = np.isin(self.states, list(states))
        return SampleSnapshot(self.store, self.ids[keep], self.states[keep])

    def records(self, positions: Sequence[int] | NDArray[np.integer[Any]]) -> list[SampleRecord]:
        """The full records of the samples at ``positions``, in that order, read by batch.

        Raises
        ------
        LookupError
            When a sample of the snapshot has been deleted from the store since.
        """
        at = np.asarray(positions, dtype=np.int64).ravel()
        if at.size and (at.min() < -len(self) or at.max() >= len(self)):
            raise IndexError(f"positions outside a snapshot of {len(self)} samples")
        wanted = self.ids[at]
        found: dict[int, tuple[Any, ...]] = {}
        unique = np.unique(wanted).tolist()
        with self.store.read() as session:
            connection = session.connection()
            for start in range(0, len(unique), _RECORD_BATCH):
                chunk = unique[start : start + _RECORD_BATCH]
                for row in connection.execute(_RECORDS, {"ids": chunk}):
                    found[int(row[0])] = tuple(row)
        missing = [i for i in unique if i not in found]
        if missing:
            raise LookupError(f"samples {missing[:10]} of the snapshot are no longer in the store")
        states = self.states[at].tolist()
        records = []
        for i, state in zip(wanted.tolist(), states, strict=True):
            id_, external_id, text, uri, split = found[i][:5]
            records.append(SampleRecord(id_, external_id, text, uri, split, state))
        return records


def sample_snapshot(
    store: Store,
    project: str,
    *,
    split: Split | None = None,
    state: SampleState | None = None,
) -> SampleSnapshot:
    """The project's samples in store order as arrays of ids and states (:class:`SampleSnapshot`).

    The lean form of :func:`list_samples` for a round over a large pool: the same samples in the
    same order, with their records read only when asked.
    """
    with store.read() as session:
        row = project_row(session, project)
        query = select(Sample.id, Sample.state).where(Sample.project_id == row.id)
        if split is not None:
            query = query.where(Sample.split == split)
        if state is not None:
            query = query.where(Sample.state == state)
        result = session.connection().execute(query.order_by(Sample.id))
        # the driver's plain tuples: an int and a str need no processing, and a million Row
        # objects cost as much again as the read itself
        rows = result.cursor.fetchall()
        result.close()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    states = np.asarray([r[1] for r in rows], dtype=str) if rows else np.empty(0, dtype="<U1")
    return SampleSnapshot(store, ids, states)


def labeled_set(
    store: Store, project: str, *, split: Split = "pool"
) -> list[tuple[SampleRecord, str]]:
    """The labeled samples of one split (the training set by default) with their labels."""
    with store.read() as session:
        row = project_row(session, project)
        query = (
            select(
                Sample.id,
                Sample.external_id,
                Sample.text,
                Sample.uri,
                Sample.split,
                Sample.state,
                Label.value,
            )
            .join(Label, Label.sample_id == Sample.id)
            .where(Sample.project_id == row.id, Sample.split == split)
            .order_by(Sample.id)
        )
        return [(SampleRecord(*values[:6]), values[6]) for values in session.execute(query)]
