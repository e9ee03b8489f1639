"""Opening a store: the URL, the engine, SQLite's pragmas, transactions and migrations.

SQLite (the default, one file) runs in WAL mode with ``foreign_keys`` on and
``synchronous=NORMAL``: a committed transaction survives the death of the process that wrote
it (under WAL, NORMAL syncs at checkpoints only, so only a power cut or an OS crash can lose the
last commits; a killed process loses nothing it acknowledged, which the SIGKILL tests check).
Checkpoints come every :data:`SQLITE_CHECKPOINT_PAGES` WAL pages rather than SQLite's 1000.
Write transactions start with ``BEGIN IMMEDIATE`` so that two writers queue for the lock
instead of failing half-way. Within one process the writers of a SQLite store also queue on
one in-process lock before they begin: SQLite's busy handler polls with sleeps that grow up to
100 ms, so threads that met the file lock there waited seconds under load, while a
``threading.Lock`` hands the turn over at once. Other processes still meet the file lock and
the busy timeout. PostgreSQL (row locks, many writers at once) is reached by URL through
psycopg 3 and takes no in-process lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from labelwise.store._statement import Driver
from labelwise.store.errors import SchemaError, StoreError

__all__ = ["DEFAULT_URL", "Store", "init_store", "normalize_url", "open_store", "utcnow"]

#: The store used when neither ``--store`` nor ``LABELWISE_STORE`` names one.
DEFAULT_URL = "sqlite:///labelwise.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_SECONDS = 60.0
#: WAL pages after which a commit checkpoints them into the database file (SQLite: 1000).
#: A checkpoint syncs the file while the writer holds the lock; ten times fewer of them cut
#: the wall time of the annotation service's commits by half or more.
SQLITE_CHECKPOINT_PAGES = 10_000
#: Size the WAL file is truncated back to after a checkpoint.
SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (the store keeps every time in naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def sqlite_file(database: str | None) -> Path | None:
    """The file of a SQLite URL's database part; None for an in-memory one or a ``file:`` URI."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def normalize_url(url: str | None = None) -> str:
    """Resolve a store URL: ``url``, else ``$LABELWISE_STORE``, else :data:`DEFAULT_URL`.

    ``postgresql://`` and ``postgres://`` are sent to the psycopg 3 driver
    (``postgresql+psycopg://``), the one labelwise installs.
    """
    url = url or os.environ.get("LABELWISE_STORE") or DEFAULT_URL
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Store:
    """An open store: an engine and the two ways in, :meth:`read` and :meth:`write`."""

    url: str
    engine: Engine
    _write_engine: Engine = field(repr=False)
    _write_lock: AbstractContextManager[Any] = field(
        default_factory=nullcontext, repr=False, compare=False
    )

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def sqlite_path(self) -> Path | None:
        """The database file of a SQLite store; None for PostgreSQL or an in-memory SQLite."""
        return sqlite_file(self.engine.url.database) if self.dialect == "sqlite" else None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that changes the store: committed on exit, rolled back on error.

        On SQLite the writers of this process take their turn on one lock first (see the
        module's notes); the lock is re-entrant, so a transaction that opens another one in
        the same thread meets the database's own lock, as before, not a deadlock here.
        """
        with (
            self._write_lock,
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def driver_write(self) -> Iterator[Driver]:
        """:meth:`write` on the driver's own connection, for :class:`~._statement.Prepared`
        statements: committed on exit, rolled back on error.

        On SQLite: ``BEGIN IMMEDIATE`` under the writer lock, as :meth:`write`. On PostgreSQL
        the driver opens the transaction at the first statement.
        """
        with self._write_lock:
            pooled = self._write_engine.raw_connection()
            try:
                conn: Any = pooled.driver_connection
                sqlite = self.dialect == "sqlite"
                if sqlite:
                    conn.execute("BEGIN IMMEDIATE")
                cursor = conn.cursor()
                try:
                    yield Driver(cursor, self._write_engine.dialect)
                except BaseException:
                    if sqlite:
                        conn.execute("ROLLBACK")
                    else:
                        conn.rollback()
                    raise
                finally:
                    cursor.close()
                if sqlite:
                    conn.execute("COMMIT")
                else:
                    conn.commit()
            finally:
                pooled.close()

    @contextmanager
    def driver_read(self) -> Iterator[Driver]:
        """A pooled driver connection for reads of :class:`~._statement.Prepared` statements,
        outside any write transaction (what it read is rolled back on return to the pool)."""
        pooled = self.engine.raw_connection()
        try:
            cursor = pooled.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                yield Driver(cursor, self.engine.dialect)
            finally:
                cursor.close()
        finally:
            pooled.close()

    @contextmanager
    def sqlite_write(self) -> Iterator[sqlite3.Connection]:
        """:meth:`write` on SQLite's own driver connection (for the WAL checkpointer)."""
        if self.dialect != "sqlite":
            raise StoreError(f"sqlite_write needs a SQLite store, not {self.dialect}")
        with self.driver_write() as driver:
            yield driver.cursor.connection

    @contextmanager
    def sqlite_read(self) -> Iterator[sqlite3.Connection]:
        """A pooled SQLite driver connection for reads outside any transaction."""
        if self.dialect != "sqlite":
            raise StoreError(f"sqlite_read needs a SQLite store, not {self.dialect}")
        pooled = self.engine.raw_connection()
        try:
            yield pooled.driver_connection  # type: ignore[misc]
        finally:
            pooled.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; it never commits."""
        with Session(self.engine) as session:
            yield session

    def close(self) -> None:
        """Release the connections of this store."""
        self.engine.dispose()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's begin event emits BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_SECONDS * 1000)}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit = {SQLITE_WAL_LIMIT_BYTES}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _make_engine(url: str) -> tuple[Engine, Engine]:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r} (try sqlite:///labelwise.db)") from exc
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(parsed.database)
        if path is not None:
            parent = path.resolve().parent
            if not parent.is_dir():
                raise StoreError(f"cannot create the store {url}: folder {parent} does not exist")
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine, engine.execution_options(sqlite_begin="IMMEDIATE")
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # a missing driver or a malformed URL
        raise StoreError(f"cannot open the store {url}: {exc}") from exc
    return engine, engine


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of labelwise."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration a database is at, or None when it has no labelwise schema."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def init_store(url: str | None = None) -> Store:
    """Create a store, or upgrade an existing one to the newest schema, and open it.

    Parameters
    ----------
    url : str, optional
        A SQLAlchemy URL; see :func:`normalize_url` for the default.
    """
    url = normalize_url(url)
    engine, write_engine = _make_engine(url)
    try:
        _upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        raise StoreError(f"cannot reach the store {url}: {exc.orig}") from exc
    return _store(url, engine, write_engine)


def _upgrade(engine: Engine) -> None:
    """Run the migrations up to the head, in one transaction.

    On SQLite they run with foreign keys off and are checked before the commit, SQLite's own
    procedure for schema changes (https://sqlite.org/lang_altertable.html#otheralter): a
    migration in batch mode rebuilds a table by copy, drop and rename, and dropping a table
    that others reference fails while foreign keys are on.
    """
    from alembic import command

    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        if sqlite:  # outside a transaction, where the pragma takes effect
            driver.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                command.upgrade(_alembic_config(connection), "head")
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise SchemaError("a migration left rows whose foreign keys point nowhere")
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


def _store(url: str, engine: Engine, write_engine: Engine) -> Store:
    if engine.dialect.name == "sqlite":
        return Store(url, engine, write_engine, threading.RLock())
    return Store(url, engine, write_engine)


def open_store(url: str | None = None) -> Store:
    """Open an existing store whose schema is the newest one.

    Raises
    ------
    SchemaError
        When the database has no labelwise schema or an older one (run ``labelwise init``).
    """
    url = normalize_url(url)
    parsed = make_url(url) if "://" in url else None
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        path = sqlite_file(parsed.database)
        if path is not None and not path.exists():
            raise SchemaError(f"no store at {url}: run `labelwise init --store {url}` first")
    engine, write_engine = _make_engine(url)
    try:
        found = current_revision(engine)
    except OperationalError as exc:
        engine.dispose()
        raise StoreError(f"cannot reach the store {url}: {exc.orig}") from exc
    if found != head_revision():
        engine.dispose()
        what = "has no labelwise schema" if found is None else f"is at schema {found}"
        raise SchemaError(f"the store {url} {what}: run `labelwise init --store {url}` first")
    return _store(url, engine, write_engine)
