"""Bulk writes of an import, through the database driver inside the session's transaction.

SQLite gets ``executemany`` of plain tuples with a larger page cache while the import runs
(the unique index on ``(project_id, external_id)`` then stays in memory) and, for a table
whose rows have been checked against the sample table's CHECK constraints here, all at once,
without SQLite evaluating them again row by row (half of its insert time); PostgreSQL gets
one ``COPY ... FROM STDIN`` for the whole file, of CSV text that Arrow writes a table at a
time, fed to the server by a thread while the next table is checked, and the import labels
in one ``INSERT ... SELECT``. Both go through the session's own connection, so they commit or
roll back with everything else. After a large import has committed, PostgreSQL's statistics
and visibility map of the two tables are brought up to date (:func:`tidy_after_import`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import islice, repeat
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    DateTime,
    String,
    Table,
    Text,
    bindparam,
    column,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from labelwise.store._statement import Driver, Prepared
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import StoreError
from labelwise.store.schema import SAMPLE_STATES, SPLITS, Label, Sample

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "SAMPLE_CHECKS",
    "SAMPLE_COLUMNS",
    "bulk_session",
    "copy_sql",
    "insert_labels",
    "insert_sample_rows",
    "known_hashes",
    "sample_table_writer",
    "tidy_after_import",
]

logger = logging.getLogger(__name__)

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
#: Sample rows an import adds before :func:`tidy_after_import` runs (and a tenth of the table).
TIDY_MIN_ROWS = 10_000
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
_SAMPLE: Table = Sample.__table__  # type: ignore[assignment]
_LABEL: Table = Label.__table__  # type: ignore[assignment]
_KNOWN = Prepared(
    select(Sample.external_id, Sample.content_hash).where(Sample.project_id == bindparam("pid"))
)
_UNLABELED = Prepared(
    select(Sample.id, Sample.external_id).where(
        Sample.project_id == bindparam("pid"),
        Sample.state == "labeled",
        ~exists().where(Label.sample_id == Sample.id),
    )
)
_INSERT_SAMPLES = Prepared(insert(_SAMPLE), columns=SAMPLE_COLUMNS)
_INSERT_LABELS = Prepared(insert(_LABEL), columns=_LABEL_COLUMNS)
# PostgreSQL: the import's (external id, value) pairs as rows, then one INSERT ... SELECT.
_GIVEN = select(
    func.unnest(bindparam("ids", type_=ARRAY(Text))).label("external_id"),
    func.unnest(bindparam("values", type_=ARRAY(Text))).label("value"),
).subquery("given")
_IMPORT_LABELS = insert(_LABEL).from_select(
    list(_LABEL_COLUMNS),
    select(
        Sample.id,
        Sample.project_id,
        _GIVEN.c.value,
        literal("import"),
        null(),
        literal(0),
        bindparam("now", type_=DateTime()),
    )
    .join_from(
        _GIVEN,
        Sample,
        (Sample.project_id == bindparam("pid")) & (Sample.external_id == _GIVEN.c.external_id),
    )
    .where(Sample.state == "labeled", ~exists().where(Label.sample_id == Sample.id)),
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
    with _driver_of(session) as driver:
        rows = driver.all(_KNOWN, pid=project_id)
    return [row[0] for row in rows], [row[1] for row in rows]


@contextmanager
def _driver_of(session: Session) -> Iterator[Driver]:
    """A cursor of the session's connection as a :class:`Driver` (in the session's
    transaction), closed when the block ends."""
    cursor = _driver(session)[1].cursor()
    try:
        yield Driver(cursor, session.get_bind().dialect)
    finally:
        cursor.close()


def _sql(session: Session, statement: Prepared) -> str:
    """``statement``'s SQL for the session's dialect; its parameters are positional (qmark)
    in the order of its columns, which is the order of the tuples given here."""
    compiled = statement.compiled(session.get_bind().dialect)
    assert compiled.positional and list(compiled.names) == statement.columns, compiled.names
    return compiled.sql


def _insert_in_batches(dbapi: Any, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """``executemany(statement, ...)`` over ``rows`` in batches of :data:`BATCH_ROWS`."""
    cursor = dbapi.cursor()
    try:
        for batch in _batches(rows, BATCH_ROWS):
            cursor.executemany(statement, batch)
    finally:
        cursor.close()


def _batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_sample_rows(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert sample tuples in :data:`SAMPLE_COLUMNS` order (``meta`` already JSON text)."""
    dialect, dbapi = _driver(session)
    if dialect == "postgresql":
        with dbapi.cursor() as cursor, cursor.copy(copy_sql(_SAMPLE, SAMPLE_COLUMNS)) as copy:
            for row in rows:
                copy.write_row(row)
        return
    _insert_in_batches(dbapi, _sql(session, _INSERT_SAMPLES), rows)


def copy_sql(table: Table, columns: tuple[str, ...], options: str = "") -> str:
    """PostgreSQL's ``COPY table (columns) FROM STDIN`` (COPY has no Core construct), with the
    names checked against the table's own."""
    missing = [name for name in columns if name not in table.c]
    assert not missing, f"{table.name} has no columns {missing}"
    return f"COPY {table.name} ({', '.join(columns)}) FROM STDIN{options}"


@contextmanager
def sample_table_writer(session: Session, project_id: int) -> Iterator[Callable[[pa.Table], None]]:
    """A function inserting tables of ``project_id``'s sample rows while the block runs.

    Each table's columns are :data:`SAMPLE_COLUMNS` but the first. On PostgreSQL the block is
    one ``COPY sample ... FROM STDIN`` that stays open across tables: a thread of psycopg's
    feeds the server, so the server stores one table while Python checks the next, and the
    server's work is waited for once, when the block ends. The session's connection cannot run
    other statements inside the block. An exception inside it aborts the ``COPY`` (and with it
    the transaction). On SQLite each table is one ``executemany``.
    """
    dialect, dbapi = _driver(session)
    if dialect != "postgresql":
        yield partial(_insert_sqlite_table, dbapi, _sql(session, _INSERT_SAMPLES), project_id)
        return
    from psycopg.copy import QueuedLibpqWriter

    statement = copy_sql(_SAMPLE, SAMPLE_COLUMNS, " (FORMAT csv)")
    with dbapi.cursor() as cursor:
        writer = QueuedLibpqWriter(cursor)
        with cursor.copy(statement, writer=writer) as copy:
            yield partial(_copy_table, copy, project_id)


def _copy_table(copy: Any, project_id: int, table: pa.Table) -> None:
    """Send ``table`` as CSV into the open ``COPY sample`` of :func:`sample_table_writer`."""
    if table.num_rows == 0:
        return
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    table = table.select(list(SAMPLE_COLUMNS[1:])).add_column(
        0, "project_id", pa.array(repeat(project_id, table.num_rows), pa.int64())
    )
    buffer = io.BytesIO()
    arrow_csv.write_csv(table, buffer, arrow_csv.WriteOptions(include_header=False))
    copy.write(buffer.getvalue())


def _insert_sqlite_table(dbapi: Any, statement: str, project_id: int, table: pa.Table) -> None:
    """Insert ``table`` into SQLite's ``sample`` with one ``executemany`` of ``statement``."""
    if table.num_rows == 0:
        return
    _check_sample_constraints(table)
    columns = [table.column(name).to_pylist() for name in SAMPLE_COLUMNS[1:]]
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
    if "meta" in table.column_names:  # a tabular sample's payload is its columns
        has_payload = pc.or_(has_payload, pc.is_valid(table.column("meta")))
    ok = pc.and_kleene(pc.and_kleene(ok, pc.invert(queued_eval)), has_payload)
    if not pc.all(pc.fill_null(ok, False)).as_py():
        raise StoreError("an import produced samples that break the sample table's constraints")


def insert_labels(session: Session, project_id: int, labels: dict[str, str]) -> int:
    """Label rows (method ``import``) for the project's labeled samples that have none yet.

    ``labels`` maps external ids to label values; returns the number of rows written.
    """
    if not labels:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        # One statement: the server matches the ids through the (project_id, external_id)
        # index, instead of sending every labeled sample's id here and back again.
        params = {"ids": list(labels), "values": list(labels.values())}
        done = session.execute(_IMPORT_LABELS, {**params, "pid": project_id, "now": utcnow()})
        return int(done.rowcount)  # type: ignore[attr-defined]
    with _driver_of(session) as driver:
        new = driver.all(_UNLABELED, pid=project_id)
    dialect = session.get_bind().dialect
    processor = _LABEL.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
    now = utcnow()
    stamp = now if processor is None else processor(now)
    rows = [
        (sample_id, project_id, labels[external_id], "import", None, 0, stamp)
        for sample_id, external_id in new
        if external_id in labels
    ]
    _insert_in_batches(_driver(session)[1], _sql(session, _INSERT_LABELS), rows)
    return len(rows)


#: The rows PostgreSQL's last ANALYZE counted in a table (``name``), or -1: never analyzed.
_PG_CLASS = table("pg_class", column("oid"), column("reltuples"))
_COUNTED = select(_PG_CLASS.c.reltuples).where(
    _PG_CLASS.c.oid == func.to_regclass(bindparam("name", type_=String))
)


def tidy_after_import(store: Store, inserted: int) -> None:
    """After a large import into PostgreSQL, ``VACUUM (ANALYZE) sample, label``.

    Without it the planner goes on planning with the tables as they were before the import:
    right after 1M rows with 100k labels, the status count of labels by class was planned for
    58 rows and sorted on disk (22-44 ms on a loaded 2-core machine; 11 ms once analyzed, 5-10
    ms once vacuumed, when its index-only scan stops visiting the heap), and autovacuum, where
    it runs at all, gets there only later. It runs when ``inserted`` is at least
    :data:`TIDY_MIN_ROWS` and a tenth of the table (autovacuum's own threshold), after the
    commit, because VACUUM cannot run in a transaction: it is upkeep, not part of the import,
    so a failure is logged, not raised.
    SQLite needs none: its plans here do not use statistics, and the WAL was checkpointed at
    the commit.
    """
    if store.dialect != "postgresql" or inserted < TIDY_MIN_ROWS:
        return
    try:
        with store.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            # The rows the last ANALYZE counted (before this import), or -1: never analyzed.
            counted = connection.execute(_COUNTED, {"name": _SAMPLE.name}).scalar_one()
            if counted >= 0 and inserted < 0.1 * counted:
                return
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {_SAMPLE.name}, {_LABEL.name}")
    except DBAPIError as exc:
        logger.warning("the import is stored, but VACUUM (ANALYZE) after it failed: %s", exc)
