"""Computed features of samples, stored once: one float32 vector per sample and kind.

A *kind* names how the features were made (``"minilm-384"``, ``"pixels-8x8"``,
``"tabular-standardised"``, ``"hashed-1024"``). Each project holds a ``feature_set`` row per
kind, with the width ``dim`` and the parameters the features were made with (fixed once
written: the first writer's parameters stand), and a ``sample_feature`` row per sample whose
``vector`` is ``dim`` little-endian float32 values (BLOB on SQLite, bytea on PostgreSQL).

Writes and reads go by chunks of :data:`CHUNK_ROWS` samples, in one transaction for a write.
A pool of 1,000,000 samples of 384-d features is 1.5 GB of float32: read it a chunk at a time
with :func:`iter_features` rather than all at once with :func:`load_features`.

Examples
--------
>>> save_features(store, "reviews", ids, X, kind="minilm-384")  # doctest: +SKIP
>>> X, missing = load_features(store, "reviews", ids, kind="minilm-384")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import (
    BigInteger,
    Column,
    LargeBinary,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from labelwise.store._bulk import copy_sql
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import NotFoundError, StoreError
from labelwise.store.projects import project_row
from labelwise.store.schema import FeatureSet, Sample, SampleFeature

__all__ = [
    "CHUNK_ROWS",
    "FeatureSetInfo",
    "count_features",
    "declare_features",
    "feature_set",
    "iter_features",
    "load_features",
    "save_features",
]

#: Samples written or read per statement.
CHUNK_ROWS = 5_000
_FLOAT32 = np.dtype("<f4")


@dataclass(frozen=True)
class FeatureSetInfo:
    """One kind of features of a project: its width and the parameters it was made with."""

    project: str
    kind: str
    dim: int
    params: dict[str, Any] = field(default_factory=dict)


def _check_kind(kind: str) -> None:
    if not isinstance(kind, str) or not kind or len(kind) > 60:
        raise StoreError(f"a feature kind is a non-empty name of up to 60 characters, got {kind!r}")


def _info(project: str, row: FeatureSet) -> FeatureSetInfo:
    return FeatureSetInfo(project, row.kind, row.dim, dict(row.params))


def _declare(
    session: Session, project_id: int, kind: str, dim: int, params: Mapping[str, Any] | None
) -> FeatureSet:
    """The ``feature_set`` row of ``kind``; created with ``dim`` and ``params`` if absent."""
    row = session.get(FeatureSet, (project_id, kind))
    if row is None:
        row = FeatureSet(
            project_id=project_id,
            kind=kind,
            dim=dim,
            params=dict(params or {}),
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
    elif row.dim != dim:
        raise StoreError(
            f"features {kind!r} of this project are {row.dim}-d, not {dim}-d: "
            "store features of another width under another kind"
        )
    return row


def declare_features(
    store: Store,
    project: str,
    kind: str,
    dim: int,
    params: Mapping[str, Any] | None = None,
) -> FeatureSetInfo:
    """Record that ``project`` has features of ``kind``, ``dim`` wide, made with ``params``.

    The first declaration stands: declaring again returns the stored parameters (so two
    processes that computed, say, a pool's mean and std at the same time agree on one).

    Parameters
    ----------
    store : Store
    project : str
    kind : str
        The name of the features, such as ``"tabular-standardised"``.
    dim : int
        Values per sample.
    params : mapping, optional
        JSON-serialisable parameters the features are made with.

    Returns
    -------
    FeatureSetInfo
        What the store holds for ``kind`` after the call.

    Raises
    ------
    StoreError
        When ``kind`` is already stored with another width.
    """
    _check_kind(kind)
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise StoreError(f"features need a positive width, got {dim!r}")
    with store.write() as session:
        row = project_row(session, project, lock=True)
        return _info(project, _declare(session, row.id, kind, dim, params))


def feature_set(store: Store, project: str, kind: str) -> FeatureSetInfo | None:
    """What the store holds for features ``kind`` of ``project``; None when nothing yet."""
    with store.read() as session:
        row = project_row(session, project)
        found = session.get(FeatureSet, (row.id, kind))
        return None if found is None else _info(project, found)


def _ids_in(column: Any, session: Session) -> Any:
    """``column IN :ids``: one array parameter on PostgreSQL, an expanded list on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam("ids", type_=ARRAY(BigInteger())))
    return column.in_(bindparam("ids", expanding=True))


def _as_ids(sample_ids: Sequence[int] | ArrayLike) -> NDArray[np.int64]:
    ids = np.asarray(sample_ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise StoreError(f"sample ids must be a 1-D sequence of ints, got shape {ids.shape}")
    return ids.astype(np.int64, copy=False)


def save_features(
    store: Store,
    project: str,
    sample_ids: Sequence[int] | ArrayLike,
    matrix: ArrayLike,
    kind: str,
    *,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Store row ``i`` of ``matrix`` as the ``kind`` features of sample ``sample_ids[i]``.

    One transaction; rows already stored for a sample are replaced.

    Parameters
    ----------
    store : Store
    project : str
    sample_ids : sequence of int, shape (n,)
        Store ids of samples of ``project``, distinct.
    matrix : array-like of shape (n, d)
        Finite values; stored as float32.
    kind : str
        The name of the features.
    params : mapping, optional
        Parameters of ``kind`` when this call is the first to store it (see
        :func:`declare_features`).

    Returns
    -------
    int
        The number of rows written.

    Raises
    ------
    StoreError
        For a shape that does not match, non-finite values, repeated ids, or a width other
        than the one stored for ``kind``.
    NotFoundError
        When an id is not a sample of ``project``.
    """
    _check_kind(kind)
    ids = _as_ids(sample_ids)
    values = np.asarray(matrix, dtype=_FLOAT32)
    if values.ndim != 2 or values.shape[0] != ids.size or values.shape[1] < 1:
        raise StoreError(
            f"features must be a (n, d) matrix for n = {ids.size} sample ids, "
            f"got shape {values.shape}"
        )
    if not np.isfinite(values).all():
        raise StoreError("features must be finite: NaN or infinity found")
    if np.unique(ids).size != ids.size:
        raise StoreError("sample ids must be distinct")
    with store.write() as session:
        project_id = project_row(session, project, lock=True).id
        _declare(session, project_id, kind, int(values.shape[1]), params)
        postgresql = session.get_bind().dialect.name == "postgresql"
        for start in range(0, ids.size, CHUNK_ROWS):
            chunk = ids[start : start + CHUNK_ROWS]
            vectors = values[start : start + CHUNK_ROWS]
            _check_samples(session, project, project_id, chunk)
            if postgresql:
                _copy_upsert(session, project_id, kind, chunk, vectors)
                continue
            rows = [
                {"project_id": project_id, "kind": kind, "sample_id": int(i), "vector": v.tobytes()}
                for i, v in zip(chunk, vectors, strict=True)
            ]
            session.execute(_upsert(session), rows)
    return int(ids.size)


def _copy_upsert(
    session: Session,
    project_id: int,
    kind: str,
    ids: NDArray[np.int64],
    vectors: NDArray[np.float32],
) -> None:
    """PostgreSQL: the rows by one binary ``COPY`` into a temporary table, then one upsert.

    (``executemany`` of the upsert sends a statement per row: four times slower.)
    """
    session.execute(CreateTable(_FEATURES_IN, if_not_exists=True))
    session.execute(delete(_FEATURES_IN))  # a second chunk in the same transaction
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    columns = tuple(_FEATURES_IN.c.keys())
    with cursor.copy(copy_sql(_FEATURES_IN, columns, " (FORMAT BINARY)")) as copy:
        copy.set_types(["int8", "bytea"])
        for i, v in zip(ids.tolist(), vectors, strict=True):
            copy.write_row((i, v.tobytes()))
    session.execute(_UPSERT_COPIED, {"project_id": project_id, "kind": kind})


def _check_samples(session: Session, project: str, project_id: int, ids: NDArray[np.int64]) -> None:
    query = select(Sample.id).where(Sample.project_id == project_id, _ids_in(Sample.id, session))
    found = session.scalars(query, {"ids": ids.tolist()}).all()
    if len(found) != ids.size:
        stray = sorted(set(ids.tolist()) - set(found))
        raise NotFoundError(
            f"{len(stray)} sample ids are not samples of project {project!r} "
            f"(first: {stray[:5]}); nothing was stored"
        )


def _upsert(session: Session) -> Any:
    """``INSERT ... ON CONFLICT (project_id, kind, sample_id) DO UPDATE SET vector``."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(SampleFeature)
    return _on_conflict_set_vector(statement)


def _on_conflict_set_vector(statement: Any) -> Any:
    return statement.on_conflict_do_update(
        index_elements=["project_id", "kind", "sample_id"],
        set_={"vector": statement.excluded.vector},
    )


_FEATURES: Table = SampleFeature.__table__  # type: ignore[assignment]
#: PostgreSQL's staging table of :func:`_copy_upsert`, private to the transaction.
_FEATURES_IN = Table(
    "_sample_feature_in",
    MetaData(),
    Column("sample_id", BigInteger()),
    Column("vector", LargeBinary()),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_UPSERT_COPIED = _on_conflict_set_vector(
    postgresql.insert(_FEATURES).from_select(
        ["project_id", "kind", "sample_id", "vector"],
        select(
            bindparam("project_id", type_=BigInteger()),
            bindparam("kind", type_=String()),
            _FEATURES_IN.c.sample_id,
            _FEATURES_IN.c.vector,
        ),
    )
)


def load_features(
    store: Store,
    project: str,
    sample_ids: Sequence[int] | ArrayLike,
    kind: str,
) -> tuple[NDArray[np.float32], list[int]]:
    """The stored ``kind`` features of ``sample_ids``, and the ids that have none.

    Parameters
    ----------
    store : Store
    project : str
    sample_ids : sequence of int, shape (n,)
    kind : str

    Returns
    -------
    matrix : ndarray of shape (n, d), float32
        Row ``i`` belongs to ``sample_ids[i]``; rows of samples without stored features are
        NaN. ``d`` is 0 when the project has no features of ``kind`` at all.
    missing : list of int
        The ids without stored features, in the order given.
    """
    ids = _as_ids(sample_ids)
    with store.read() as session:
        project_id = project_row(session, project).id
        found = session.get(FeatureSet, (project_id, kind))
        if found is None:
            return np.empty((ids.size, 0), dtype=np.float32), ids.tolist()
        matrix = np.full((ids.size, found.dim), np.nan, dtype=np.float32)
        have = np.zeros(ids.size, dtype=bool)
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        for start in range(0, ids.size, CHUNK_ROWS):
            chunk = ids[start : start + CHUNK_ROWS]
            got, rows = _read_chunk(session, project_id, kind, found.dim, chunk.tolist())
            # every position that holds each id (an id asked for twice gets both rows)
            lo = np.searchsorted(sorted_ids, got, side="left")
            hi = np.searchsorted(sorted_ids, got, side="right")
            for a, b, row in zip(lo, hi, rows, strict=True):
                matrix[order[a:b]] = row
                have[order[a:b]] = True
    return matrix, ids[~have].tolist()


def _read_chunk(
    session: Session,
    project_id: int,
    kind: str,
    dim: int,
    ids: list[int] | None,
    *,
    after: int = -1,
    limit: int = CHUNK_ROWS,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Stored vectors of ``ids`` (or, when None, of the first ``limit`` ids after ``after``),
    by increasing id."""
    query = select(SampleFeature.sample_id, SampleFeature.vector).where(
        SampleFeature.project_id == project_id, SampleFeature.kind == kind
    )
    parameters: dict[str, Any] = {}
    if ids is None:
        query = query.where(SampleFeature.sample_id > after).limit(limit)
    else:
        query = query.where(_ids_in(SampleFeature.sample_id, session))
        parameters["ids"] = ids
    result = session.execute(query.order_by(SampleFeature.sample_id), parameters).all()
    got = np.fromiter((r[0] for r in result), dtype=np.int64, count=len(result))
    raw = bytearray().join(r[1] for r in result)
    rows = np.frombuffer(raw, dtype=_FLOAT32).reshape(len(result), dim)
    return got, rows


def iter_features(
    store: Store,
    project: str,
    kind: str,
    sample_ids: Sequence[int] | ArrayLike | None = None,
    *,
    chunk_rows: int = 50_000,
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.float32]]]:
    """Stored ``kind`` features chunk by chunk, for pools too large to hold at once.

    Parameters
    ----------
    store : Store
    project : str
    kind : str
    sample_ids : sequence of int, optional
        The samples to read, in chunks of ``chunk_rows`` in the order given (samples without
        features yield NaN rows, as in :func:`load_features`); by default every sample that
        has features of ``kind``, by increasing id.
    chunk_rows : int
        Samples per chunk: a chunk of 384-d features takes ``chunk_rows * 1.5`` KB.

    Yields
    ------
    ids : ndarray of shape (m,), int64
    matrix : ndarray of shape (m, d), float32
    """
    if chunk_rows < 1:
        raise StoreError(f"chunk_rows must be positive, got {chunk_rows}")
    if sample_ids is not None:
        ids = _as_ids(sample_ids)
        for start in range(0, ids.size, chunk_rows):
            chunk = ids[start : start + chunk_rows]
            yield chunk, load_features(store, project, chunk, kind)[0]
        return
    after = -1
    while True:
        with store.read() as session:
            project_id = project_row(session, project).id
            found = session.get(FeatureSet, (project_id, kind))
            if found is None:
                return
            got, rows = _read_chunk(
                session, project_id, kind, found.dim, None, after=after, limit=chunk_rows
            )
        if got.size == 0:
            return
        after = int(got[-1])
        yield got, rows


def count_features(store: Store, project: str, kind: str) -> int:
    """How many samples of ``project`` have stored features of ``kind``."""
    with store.read() as session:
        project_id = project_row(session, project).id
        return int(
            session.scalar(
                select(func.count()).where(
                    SampleFeature.project_id == project_id, SampleFeature.kind == kind
                )
            )
            or 0
        )
