"""SQLAlchemy Core statements built once, compiled once per dialect, run on the driver's cursor.

The annotation service's hot path (lease, answer, task lookups) runs a dozen small statements
per request. Through :meth:`sqlalchemy.engine.Connection.execute` most of their time went to
SQLAlchemy's per-execution work (parameter and result processing, cache lookups, events), not to
the database. A :class:`Prepared` keeps the Core statement, the one definition of what runs,
and on first use with a dialect compiles it and keeps the SQL text, the order of its
parameters, and the type processors SQLAlchemy itself would apply to them (a SQLite
``DateTime`` is stored as ISO text, ``JSON`` as ``json.dumps`` text; on PostgreSQL psycopg
adapts most values itself). Each later execution is one driver call: the same SQL and the same
stored values as ``Connection.execute``, on SQLite and PostgreSQL alike.

Statements use named :func:`~sqlalchemy.bindparam` for what changes per call; values fixed in
the statement (``Task.state == "open"``, ``LIMIT 1``) keep the value they were built with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from operator import itemgetter
from typing import Any, cast

from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

__all__ = ["Driver", "Prepared", "sqlite_time"]

Processor = Callable[[Any], Any]


@dataclass
class _Compiled:
    """One statement compiled for one dialect."""

    sql: str
    names: tuple[str, ...]  # the parameters in the order the SQL takes them
    positional: bool  # qmark parameters (a list in ``names`` order) or named (a dict)
    fixed: dict[str, Any]  # values set in the statement itself, already processed
    process: tuple[tuple[int, Processor], ...]  # (position in ``names``, what SQLAlchemy
    #                                             does to a given value there)
    types: tuple[Any, ...]  # the result columns' types, for their processors
    dialect: Dialect
    result: tuple[tuple[int, Processor], ...] | None = None  # (column, processor) pairs

    def __post_init__(self) -> None:
        self._pick = itemgetter(*self.names) if len(self.names) > 1 else None

    def parameters(self, given: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """The driver's parameters for the values ``given`` by name."""
        merged = {**self.fixed, **given} if self.fixed else given
        if self._pick is not None:
            values = list(self._pick(merged))
        else:
            values = [merged[name] for name in self.names]
        for index, process in self.process:
            value = values[index]
            if value is not None:
                values[index] = process(value)
        if self.positional:
            return values
        return dict(zip(self.names, values, strict=True))

    def processors(self, description: Sequence[Sequence[Any]]) -> tuple[tuple[int, Processor], ...]:
        """What SQLAlchemy does to the result columns, as (column, processor) pairs (known
        from the first result's driver types, as SQLAlchemy's own result does)."""
        if self.result is None:
            found = (
                kind.dialect_impl(self.dialect).result_processor(self.dialect, column[1])
                for kind, column in zip(self.types, description, strict=True)
            )
            self.result = tuple((i, p) for i, p in enumerate(found) if p is not None)
        return self.result

    def row(self, found: Sequence[Any], cursor: Any) -> tuple[Any, ...]:
        """A result row with SQLAlchemy's processing (the cursor's description is read on the
        first row only: building it costs a tuple per column)."""
        processors = self.result
        if processors is None:
            processors = self.processors(cursor.description)
        if not processors:
            return found if type(found) is tuple else tuple(found)
        values = list(found)
        for index, process in processors:
            value = values[index]
            if value is not None:
                values[index] = process(value)
        return tuple(values)


def _bind_processor(kind: Any, dialect: Dialect) -> Processor | None:
    """What SQLAlchemy does to a value of type ``kind`` bound on ``dialect``.

    SQLite's ``DateTime`` in its default storage format is the one exception: SQLAlchemy
    formats it with ``%``-formatting of a dict (10 us a value); :func:`sqlite_time` writes the
    same text with ``isoformat`` (a test checks they agree), and hands anything else back to it.
    """
    impl = kind.dialect_impl(dialect)
    process = impl.bind_processor(dialect)
    if (
        process is not None
        and type(impl) is sqlite.DATETIME
        and impl._storage_format == sqlite.DATETIME._storage_format
    ):
        return partial(sqlite_time, fallback=process)
    return cast(Processor | None, process)


def sqlite_time(value: Any, fallback: Processor) -> Any:
    """A naive datetime as SQLAlchemy's SQLite ``DateTime`` stores it; else ``fallback``."""
    if type(value) is datetime and value.tzinfo is None:
        return value.isoformat(" ", "microseconds")
    return fallback(value)


class Prepared:
    """A Core statement, compiled once per dialect and run on a DBAPI cursor.

    Parameters
    ----------
    statement : a SQLAlchemy Core ``select``, ``insert``, ``update`` or ``delete`` whose
        varying values are named bind parameters (no expanding ``IN``)
    columns : for an ``insert``, the columns given per call (each a parameter of its name)

    Examples
    --------
    >>> HELD = Prepared(select(Task.id).where(Task.annotator_id == bindparam("who")))
    >>> with store.driver_write() as driver:  # doctest: +SKIP
    ...     driver.first(HELD, who=3)
    """

    def __init__(self, statement: ClauseElement, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = None if columns is None else list(columns)
        self._by_dialect: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The statement compiled for ``dialect`` (once; kept for every later call)."""
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._compile(dialect)
            self._by_dialect[dialect.name] = found
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled: Any = self.statement.compile(dialect=dialect, column_keys=self.columns)
        sql = str(compiled)
        if "POSTCOMPILE" in sql:  # pragma: no cover - a programming error, caught by tests
            raise ValueError(f"statement needs per-call compilation: {sql}")
        params = {name: param for param, name in compiled.bind_names.items()}
        order = compiled.positiontup
        names = tuple(params) if order is None else tuple(order)
        fixed: dict[str, Any] = {}
        process: list[tuple[int, Processor]] = []
        for index, name in enumerate(names):
            param = params[name]
            found = _bind_processor(param.type, dialect)
            if not param.required:
                value = param.effective_value
                fixed[name] = value if found is None or value is None else found(value)
            elif found is not None:
                process.append((index, found))
        types = tuple(c.type for c in getattr(self.statement, "exported_columns", ()))
        return _Compiled(sql, names, order is not None, fixed, tuple(process), types, dialect)


class Driver:
    """A transaction's DBAPI cursor and its dialect: where :class:`Prepared` statements run.

    Parameters
    ----------
    cursor : the driver's cursor (``sqlite3`` or psycopg), inside a transaction the caller
        commits or rolls back
    dialect : the SQLAlchemy dialect of the store, which the statements are compiled for
    """

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self.cursor = cursor
        self.dialect = dialect

    def run(self, statement: Prepared, **params: Any) -> None:
        """Execute ``statement`` with ``params``; nothing read back."""
        compiled = statement.compiled(self.dialect)
        self.cursor.execute(compiled.sql, compiled.parameters(params))

    def many(self, statement: Prepared, rows: Iterable[Mapping[str, Any]]) -> None:
        """Execute ``statement`` once per parameter set of ``rows`` (one ``executemany``)."""
        compiled = statement.compiled(self.dialect)
        self.cursor.executemany(compiled.sql, [compiled.parameters(row) for row in rows])

    def first(self, statement: Prepared, **params: Any) -> tuple[Any, ...] | None:
        """The first row, its values as SQLAlchemy would return them, or None."""
        compiled = statement.compiled(self.dialect)
        self.cursor.execute(compiled.sql, compiled.parameters(params))
        found = self.cursor.fetchone()
        return None if found is None else compiled.row(found, self.cursor)

    def all(self, statement: Prepared, **params: Any) -> list[tuple[Any, ...]]:
        """Every row, its values as SQLAlchemy would return them."""
        compiled = statement.compiled(self.dialect)
        self.cursor.execute(compiled.sql, compiled.parameters(params))
        cursor = self.cursor
        return [compiled.row(found, cursor) for found in cursor.fetchall()]

    def scalar(self, statement: Prepared, **params: Any) -> Any:
        """The first column of the first row, or None."""
        found = self.first(statement, **params)
        return None if found is None else found[0]
