"""Bulk writes of an import, through the database driver inside the session's transaction.

SQLite gets ``executemany`` of plain tuples with a larger page cache while the import runs
(the unique index on ``(project_id, external_id)`` then stays in memory) and, for a table
whose rows have been checked against the sample table's CHECK constraints here, all at once,
without SQLite evaluating them again row by row (half of its insert time); PostgreSQL gets
``COPY ... FROM STDIN``, of CSV text that Arrow writes for a whole table at once. Both go
through the session's own connection, so they commit or roll back with everything else.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice, repeat
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from labelwise.store.engine import utcnow
from labelwise.store.errors import StoreError
from labelwise.store.schema import SAMPLE_STATES, SPLITS, Label

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "SAMPLE_CHECKS",
    "SAMPLE_COLUMNS",
    "bulk_session",
    "insert_labels",
    "insert_sample_rows",
    "insert_sample_table",
    "known_hashes",
]

#: The columns of ``sample`` an import fills, in the order of its tuples and tables.
SAMPLE_COLUMNS = (
    "project_id",
    "external_id",
    "text",
    "uri",
    "split",
    "state",
    "gold_label",
    "meta",
    "content_hash",
)
#: Rows sent to SQLite per ``executemany``.
BATCH_ROWS = 50_000
#: SQLite page cache during an import, in KiB (pages are only taken as they are used).
SQLITE_IMPORT_CACHE_KIB = 256 * 1024
_LABEL_COLUMNS = (
    "sample_id",
    "project_id",
    "value",
    "method",
    "agreement",
    "n_annotations",
    "updated_at",
)


def _driver(session: Session) -> tuple[str, Any]:
    connection = session.connection()
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    return connection.dialect.name, dbapi


@contextmanager
def bulk_session(session: Session) -> Iterator[None]:
    """Give SQLite a page cache large enough for a bulk import while the block runs."""
    dialect, dbapi = _driver(session)
    if dialect != "sqlite":
        yield
        return
    cursor = dbapi.cursor()
    try:
        (previous,) = cursor.execute("PRAGMA cache_size").fetchone()
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")
    finally:
        cursor.close()


def known_hashes(session: Session, project_id: int) -> tuple[list[str], list[str]]:
    """External ids and content hashes of the samples ``project_id`` already holds."""
    dialect, dbapi = _driver(session)
    mark = "%s" if dialect == "postgresql" else "?"
    cursor = dbapi.cursor()
    try:
        cursor.execute(
            f"SELECT external_id, content_hash FROM sample WHERE project_id = {mark}",
            (project_id,),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [row[0] for row in rows], [row[1] for row in rows]


def _marks(columns: tuple[str, ...]) -> str:
    return ", ".join("?" * len(columns))


def _batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_sample_rows(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert sample tuples in :data:`SAMPLE_COLUMNS` order (``meta`` already JSON text)."""
    dialect, dbapi = _driver(session)
    columns = ", ".join(SAMPLE_COLUMNS)
    if dialect == "postgresql":
        with dbapi.cursor() as cursor, cursor.copy(f"COPY sample ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    statement = f"INSERT INTO sample ({columns}) VALUES ({_marks(SAMPLE_COLUMNS)})"
    cursor = dbapi.cursor()
    try:
        for batch in _batches(rows, BATCH_ROWS):
            cursor.executemany(statement, batch)
    finally:
        cursor.close()


def insert_sample_table(session: Session, project_id: int, table: pa.Table) -> None:
    """Insert the rows of ``table``, whose columns are :data:`SAMPLE_COLUMNS` but the first."""
    if table.num_rows == 0:
        return
    dialect, dbapi = _driver(session)
    names = SAMPLE_COLUMNS[1:]
    if dialect == "postgresql":
        import pyarrow as pa
        from pyarrow import csv as arrow_csv

        table = table.select(list(names)).add_column(
            0, "project_id", pa.array(repeat(project_id, table.num_rows), pa.int64())
        )
        buffer = io.BytesIO()
        arrow_csv.write_csv(table, buffer, arrow_csv.WriteOptions(include_header=False))
        statement = f"COPY sample ({', '.join(SAMPLE_COLUMNS)}) FROM STDIN (FORMAT csv)"
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(buffer.getbuffer())
        return
    _check_sample_constraints(table)
    columns = [table.column(name).to_pylist() for name in names]
    statement = (
        f"INSERT INTO sample ({', '.join(SAMPLE_COLUMNS)}) VALUES ({_marks(SAMPLE_COLUMNS)})"
    )
    cursor = dbapi.cursor()
    try:
        # Checked above for the whole table at once; SQLite's per-row CHECKs cost half the time.
        cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            cursor.executemany(statement, zip(repeat(project_id), *columns, strict=False))
        finally:
            cursor.execute("PRAGMA ignore_check_constraints = OFF")
    finally:
        cursor.close()


#: The CHECK constraints of ``sample`` that :func:`_check_sample_constraints` evaluates.
SAMPLE_CHECKS = ("split", "state", "eval_never_queued", "has_payload")


def _check_sample_constraints(table: pa.Table) -> None:
    """Evaluate the CHECK constraints of ``sample`` (:data:`SAMPLE_CHECKS`) over ``table``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    split, state = table.column("split"), table.column("state")
    ok = pc.and_kleene(
        pc.is_in(split, value_set=pa.array(SPLITS)),
        pc.is_in(state, value_set=pa.array(SAMPLE_STATES)),
    )
    queued_eval = pc.and_(
        pc.equal(split, "eval"), pc.is_in(state, value_set=pa.array(["queued", "in_progress"]))
    )
    has_payload = pc.or_(pc.is_valid(table.column("text")), pc.is_valid(table.column("uri")))
    ok = pc.and_kleene(pc.and_kleene(ok, pc.invert(queued_eval)), has_payload)
    if not pc.all(pc.fill_null(ok, False)).as_py():
        raise StoreError("an import produced samples that break the sample table's constraints")


def insert_labels(session: Session, project_id: int, labels: dict[str, str]) -> int:
    """Label rows (method ``import``) for the project's labeled samples that have none yet.

    ``labels`` maps external ids to label values; returns the number of rows written.
    """
    if not labels:
        return 0
    dialect, dbapi = _driver(session)
    mark = "%s" if dialect == "postgresql" else "?"
    cursor = dbapi.cursor()
    try:
        cursor.execute(
            "SELECT sample.id, sample.external_id FROM sample"
            " LEFT OUTER JOIN label ON label.sample_id = sample.id"
            f" WHERE sample.project_id = {mark} AND sample.state = 'labeled'"
            " AND label.sample_id IS NULL",
            (project_id,),
        )
        new = cursor.fetchall()
    finally:
        cursor.close()
    now = utcnow()
    dialect_obj = session.get_bind().dialect
    processor = Label.__table__.c.updated_at.type.dialect_impl(dialect_obj).bind_processor(
        dialect_obj
    )
    stamp = now if processor is None else processor(now)
    rows = [
        (sample_id, project_id, labels[external_id], "import", None, 0, stamp)
        for sample_id, external_id in new
        if external_id in labels
    ]
    columns = ", ".join(_LABEL_COLUMNS)
    if dialect == "postgresql":
        with dbapi.cursor() as cursor, cursor.copy(f"COPY label ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return len(rows)
    statement = f"INSERT INTO label ({columns}) VALUES ({_marks(_LABEL_COLUMNS)})"
    cursor = dbapi.cursor()
    try:
        for batch in _batches(rows, BATCH_ROWS):
            cursor.executemany(statement, batch)
    finally:
        cursor.close()
    return len(rows)
