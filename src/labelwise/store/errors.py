"""The store's exception types: each names what was refused and what to do instead."""

from __future__ import annotations

from labelwise.errors import InvalidInputError, StoreError

__all__ = [
    "ImportFileError",
    "LeaseError",
    "NotFoundError",
    "SchemaError",
    "StoreError",
]


class NotFoundError(StoreError, LookupError):
    """A project, sample, task, annotator, round or version that the store does not hold."""


class LeaseError(StoreError):
    """A task whose lease is not held by this annotator or has expired."""


class SchemaError(StoreError):
    """The database has no labelwise schema, or an older one: run ``labelwise init``."""


class ImportFileError(StoreError, InvalidInputError):
    """A file that cannot be imported; the message names the file, the line (and the column,
    where the problem is at one place in the line) and the problem."""

    def __init__(
        self,
        path: str,
        line: int | None,
        problem: str,
        unit: str = "line",
        *,
        column: int | None = None,
    ) -> None:
        where = f"{path}, {unit} {line}" if line is not None else path
        if line is not None and column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {problem}; nothing was imported")
        self.path = path
        self.line = line
        self.column = column
        self.problem = problem
