"""``import_samples``: a file or folder of samples into a project, all or nothing.

Rows have ``id``, then ``text`` or ``image`` (a path, relative to the file's folder, or a URI),
an optional ``label`` and ``split`` (``pool``, the default, ``eval`` or ``gold``); every other
column is kept as the sample's metadata. A label on a pool or eval row is an existing label;
on a gold row it is the gold answer that annotators are checked against. In a regression
(``number``) or multi-label (``labels``) project the label is an answer of that kind, checked
as annotators' answers are: a number within the project's bounds and on its step, or a label
set written ``a|c`` or as a JSON list (``["a","c"]``, ``[]`` for none); see
:mod:`labelwise.store._import_answers`. Such files take the row path. A spans project's samples
come with their entity spans: JSONL rows (the store's, or Prodigy's ``spans``), CoNLL (BIO),
spaCy JSON or DocBin files, the formats of the export, read into the same rows by
:mod:`labelwise.store._import_spans`; a new project made from such a file is a spans project.

The whole file is one transaction: a bad row (duplicate id, missing column, label outside the
label space, unreadable image) raises :class:`ImportFileError` naming the file, the line (and
the column, where the problem sits at one place: a stray field, bad JSON, bytes that are not
text in the file's encoding) and the problem, and the store is as before. The header is checked
before any row, and its problems are named as the header's (line 1). Importing the same file
again changes nothing.

Two paths, one behaviour. CSV files and Parquet files of string columns are read by Arrow and
checked a column at a time (:mod:`labelwise.store._tables`); JSONL, other Parquet files and
image folders are checked a row at a time (:mod:`labelwise.store._rows`), which is also the
reference: a file that Arrow cannot read as Python's ``csv`` module does is handed to it. Rows
go in by batches through the driver (``executemany`` on SQLite, one ``COPY`` on PostgreSQL
that the server works through while the next batch is checked). After a large import into
PostgreSQL the tables' statistics are renewed (:func:`labelwise.store._bulk.tidy_after_import`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelwise.store import _audit, _bulk
from labelwise.store._import_spans import (
    SPAN_SUFFIXES,
    SpanFileFormat,
    jsonl_has_spans,
    span_format,
    span_labels,
    span_rows,
    span_unit,
)
from labelwise.store._rows import RowChecker, load_rows
from labelwise.store.answers import AnswerSpec
from labelwise.store.engine import Store
from labelwise.store.errors import ImportFileError
from labelwise.store.projects import (
    add_project_row,
    check_label_space,
    check_settings,
    project_row,
)
from labelwise.store.readers import (
    FileFormat,
    RawRow,
    check_encoding,
    detect_format,
    read_header,
)
from labelwise.store.schema import Project

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SPAN_SUFFIXES", "ImportReport", "import_samples"]

#: Rows checked and written together by the columnar path (CSV, all-string Parquet).
CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    project: str
    path: str
    rows: int
    inserted: int
    unchanged: int
    labeled: int
    created_project: bool


def import_samples(
    store: Store,
    path: str | Path,
    project: str,
    *,
    labels: Sequence[str] | None = None,
    settings: dict[str, Any] | None = None,
    actor: str = "labelwise",
    encoding: str = "utf-8",
) -> ImportReport:
    """Import a CSV, JSONL or Parquet file, or a folder of images, in one transaction.

    Parameters
    ----------
    store : Store
    path : str or Path
        The file, or a folder whose images sit in one subfolder per label (or directly in it,
        unlabeled).
    project : str
        The project to import into; created when it does not exist, with the label space
        ``labels`` or, failing that, the sorted labels found in the file.
    labels : sequence of str, optional
        The label space of a new project; for an existing one it must match.
    settings : dict, optional
        Settings of a new project (``overlap``, ``budget``).
    encoding : str
        The text encoding of a CSV or JSONL file (``utf-8``, the default, allows a byte-order
        mark; ``latin-1``, ``cp1252``... any codec Python knows).

    Returns
    -------
    ImportReport
        Rows read, samples inserted, rows already in the store unchanged, labels added.
    """
    path = Path(path)
    spans_format = span_format(path) if path.is_file() else None
    file_format: FileFormat = "jsonl" if spans_format is not None else detect_format(path)
    encoding = check_encoding(path, encoding)
    _check_header(path, file_format, encoding)
    if spans_format is None and file_format == "jsonl" and jsonl_has_spans(path, encoding):
        spans_format = "jsonl"
    options = (labels, settings, actor)
    from labelwise.store._table_readers import NeedsRowReader  # Arrow, on the first import

    report = None
    if spans_format is None and _columnar(path, file_format, encoding):
        # NeedsRowReader rolled it back: the row reader reads the file again, names its problem
        with suppress(NeedsRowReader):
            report = _import(
                store, path, file_format, project, *options, columnar=True, encoding=encoding
            )
    if report is None:
        report = _import(
            store, path, file_format, project, *options,
            columnar=False, encoding=encoding, spans_format=spans_format,
        )  # fmt: skip
    _bulk.tidy_after_import(store, report.inserted)
    return report


def _import(
    store: Store,
    path: Path,
    file_format: FileFormat,
    project: str,
    labels: Sequence[str] | None,
    settings: dict[str, Any] | None,
    actor: str,
    *,
    columnar: bool,
    encoding: str = "utf-8",
    spans_format: SpanFileFormat | None = None,
) -> ImportReport:
    """:func:`import_samples` in one transaction, by the columnar path or the row path (a
    span file's rows made by :func:`~labelwise.store._import_spans.span_rows`)."""
    answers: AnswerSpec | None = None  # a number, label-set or spans project's answer rules
    rows: list[RawRow] | None = None
    with store.write() as session:
        existing = session.scalars(select(Project).where(Project.name == project)).first()
        if existing is not None:
            row = project_row(session, project, lock=True)
            space: list[str] | None = list(row.label_space)
            if labels is not None and list(check_label_space(labels)) != space:
                raise ImportFileError(
                    str(path), None, f"--labels differ from the label space of project {project!r}"
                )
            task_type: str | None = row.task_type
            if row.answer_kind == "spans" and file_format == "jsonl":
                spans_format = spans_format or "jsonl"
            elif spans_format is not None:
                raise ImportFileError(
                    str(path),
                    None,
                    f"a span file imports into a spans project; project {project!r} has "
                    f"answer kind {row.answer_kind!r}",
                )
            if spans_format is not None:
                rows = span_rows(path, spans_format, encoding)
            if row.answer_kind in ("number", "labels", "spans"):
                if columnar:  # rolled back: the row path checks numbers and label sets
                    from labelwise.store._table_readers import NeedsRowReader

                    raise NeedsRowReader(f"a {row.answer_kind!r} project's labels")
                answers = AnswerSpec.of(row.answer_kind, row.label_space, row.settings)
        elif spans_format is not None:
            rows = span_rows(path, spans_format, encoding)
            row = _new_spans_project(session, path, project, rows, labels, settings)
            space, task_type = list(row.label_space), row.task_type
            answers = AnswerSpec.of("spans", row.label_space, row.settings)
        else:
            space = None if labels is None else check_label_space(labels)
            task_type = None
            row = add_project_row(
                session,
                project,
                "text_classification",
                "label",
                space or [],
                check_settings(settings),
            )
        checker = RowChecker(path, file_format, task_type, encoding, answers)
        if spans_format is not None:
            checker.unit = span_unit(spans_format)
        report = _load(session, row.id, checker, space, columnar, rows)
        if existing is None and rows is None:
            row.task_type = checker.task_type or "text_classification"
            if space is None:
                found = report.pop("found_labels")
                if len(found) < 2:
                    raise ImportFileError(
                        str(path), None, "the file names fewer than 2 labels: give --labels a,b,c"
                    )
                row.label_space = sorted(found)
        report.pop("found_labels", None)
        _audit.record(
            session,
            actor=actor,
            action="import",
            object_type="project",
            object_id=row.id,
            project_id=row.id,
            detail={"path": str(path), **report},
        )
        return ImportReport(
            project=project,
            path=str(path),
            rows=report["rows"],
            inserted=report["inserted"],
            unchanged=report["unchanged"],
            labeled=report["labeled"],
            created_project=existing is None,
        )


def _new_spans_project(
    session: Session,
    path: Path,
    project: str,
    rows: list[RawRow],
    labels: Sequence[str] | None,
    settings: dict[str, Any] | None,
) -> Project:
    """A new spans project for span file ``path``: its entity labels ``labels`` or, failing
    that, the sorted labels its spans name."""
    from labelwise.store.answers import check_answer_settings
    from labelwise.store.errors import StoreError

    space = list(labels) if labels is not None else sorted(span_labels(rows))
    if len(space) < 2:
        raise ImportFileError(
            str(path), None, "the file names fewer than 2 labels: give --labels a,b,c"
        )
    try:
        space = check_label_space(space)
        merged = check_settings(settings)
        merged["answer"] = check_answer_settings("spans", space, settings)
    except StoreError as exc:
        raise ImportFileError(str(path), None, str(exc)) from None
    return add_project_row(session, project, "text_classification", "spans", space, merged)


def _check_header(path: Path, file_format: FileFormat, encoding: str) -> None:
    """Refuse a header without an ``id`` column, as the header's problem (not a row's)."""
    header = read_header(path, file_format, encoding)
    if header is None or "id" in header:
        return
    columns = ", ".join(repr(name) for name in header[:20])
    problem = f"no column 'id' (its columns are {columns})"
    if file_format == "parquet":
        raise ImportFileError(str(path), None, f"the file has {problem}")
    raise ImportFileError(str(path), 1, f"the header has {problem}")


def _columnar(path: Path, file_format: FileFormat, encoding: str) -> bool:
    """Whether ``path`` can take the columnar path (UTF-8 CSV, or Parquet of string columns)."""
    from labelwise.store._table_readers import string_parquet

    if file_format == "csv":
        return encoding == "utf-8"
    return file_format == "parquet" and string_parquet(path)


def _load(
    session: Session,
    project_id: int,
    checker: RowChecker,
    space: list[str] | None,
    columnar: bool,
    rows: list[RawRow] | None = None,
) -> dict[str, Any]:
    """Check every row of the file (or ``rows``, a span file's) and insert the new ones;
    counts of what happened."""
    if not columnar:
        return load_rows(session, project_id, checker, space, rows)
    from labelwise.store._table_readers import (
        csv_line_of_row,
        read_csv_tables,
        read_parquet_tables,
    )
    from labelwise.store._tables import load_tables

    tables: Iterator[pa.Table]
    line_of: Callable[[int], int]
    if checker.file_format == "csv":
        tables = read_csv_tables(checker.path, CHUNK_ROWS)
        line_of = partial(csv_line_of_row, checker.path)
    else:
        tables = read_parquet_tables(checker.path, CHUNK_ROWS)
        line_of = (1).__add__
    with _bulk.bulk_session(session):
        return load_tables(session, project_id, checker, space, tables, line_of)
