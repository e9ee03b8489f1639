"""``import_samples``: a file or folder of samples into a project, all or nothing.

Rows have ``id``, then ``text`` or ``image`` (a path, relative to the file's folder, or a URI),
an optional ``label`` and ``split`` (``pool``, the default, ``eval`` or ``gold``); every other
column is kept as the sample's metadata. A label on a pool or eval row is an existing label;
on a gold row it is the gold answer that annotators are checked against.

The whole file is one transaction: a bad row (duplicate id, missing column, label outside the
label space, unreadable image) raises :class:`ImportFileError` naming the file, the line and
the problem, and the store is as before. Importing the same file again changes nothing. Rows
go in by batches through the driver (``executemany`` on SQLite, ``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from labelwise.store import _audit, _tally
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import ImportFileError
from labelwise.store.projects import check_label_space, check_settings, project_row
from labelwise.store.readers import FileFormat, RawRow, detect_format, read_rows
from labelwise.store.schema import SPLITS, Label, Project, Sample

__all__ = ["ImportReport", "import_samples"]

#: Rows sent to the database per driver call.
BATCH_ROWS = 20_000
_RESERVED = ("id", "text", "image", "label", "split")
_SAMPLE_COLUMNS = (
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


@dataclass(frozen=True)
class _Row:
    external_id: str
    text: str | None
    uri: str | None
    split: str
    label: str | None
    meta: dict[str, Any] | None
    content_hash: str

    def as_tuple(self, project_id: int) -> tuple[Any, ...]:
        gold = self.label if self.split == "gold" else None
        state = "labeled" if self.label is not None and self.split != "gold" else "unlabeled"
        meta = None if self.meta is None else json.dumps(self.meta, sort_keys=True, default=str)
        return (
            project_id,
            self.external_id,
            self.text,
            self.uri,
            self.split,
            state,
            gold,
            meta,
            self.content_hash,
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _RowChecker:
    """Turns raw rows into checked rows; raises on the first bad one."""

    def __init__(self, path: Path, file_format: FileFormat, task_type: str | None) -> None:
        self.path = path
        self.file_format = file_format
        self.task_type = task_type
        self.base = path if file_format == "images" else path.parent
        self.unit = "row" if file_format == "parquet" else "line"

    def fail(self, raw: RawRow, problem: str) -> ImportFileError:
        if self.file_format == "images":
            return ImportFileError(str(raw.fields.get("image", self.path)), None, problem)
        return ImportFileError(str(self.path), raw.line, problem, unit=self.unit)

    def check(self, raw: RawRow, label_space: Sequence[str] | None) -> _Row:
        fields = raw.fields
        if _blank(fields.get("id")):
            raise self.fail(raw, "missing column 'id'" if "id" not in fields else "empty id")
        external_id = str(fields["id"]).strip()
        text = None if _blank(fields.get("text")) else str(fields["text"])
        image = None if _blank(fields.get("image")) else str(fields["image"]).strip()
        if self.task_type is None:
            self.task_type = "image_classification" if image else "text_classification"
        if self.task_type == "text_classification" and text is None:
            raise self.fail(raw, f"sample {external_id!r} has no 'text' (a text project)")
        if self.task_type == "image_classification" and image is None:
            raise self.fail(raw, f"sample {external_id!r} has no 'image' (an image project)")
        uri = None if image is None else self._check_image(raw, image)
        split = "pool" if _blank(fields.get("split")) else str(fields["split"]).strip()
        if split not in SPLITS:
            raise self.fail(raw, f"split {split!r} is not one of {', '.join(SPLITS)}")
        label = None if _blank(fields.get("label")) else str(fields["label"]).strip()
        if label is not None and label_space is not None and label not in label_space:
            raise self.fail(
                raw, f"label {label!r} is not in the label space ({', '.join(label_space)})"
            )
        meta = {k: v for k, v in fields.items() if k not in _RESERVED} or None
        digest = hashlib.md5(
            json.dumps([text, uri, split, label, meta], sort_keys=True, default=str).encode(),
            usedforsecurity=False,
        ).hexdigest()
        return _Row(external_id, text, uri, split, label, meta, digest)

    def _check_image(self, raw: RawRow, image: str) -> str:
        if "://" in image and not image.startswith("file://"):
            return image  # a remote URI: fetched by whoever shows it
        local = Path(image.removeprefix("file://"))
        local = local if local.is_absolute() else (self.base / local)
        try:
            from PIL import Image

            with Image.open(local) as picture:
                picture.verify()
        except Exception as exc:  # PIL raises many types for a broken image
            raise self.fail(raw, f"unreadable image {image!r}: {exc}") from None
        return str(local.resolve())


def import_samples(
    store: Store,
    path: str | Path,
    project: str,
    *,
    labels: Sequence[str] | None = None,
    settings: dict[str, Any] | None = None,
    actor: str = "labelwise",
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

    Returns
    -------
    ImportReport
        Rows read, samples inserted, rows already in the store unchanged, labels added.
    """
    path = Path(path)
    file_format = detect_format(path)
    with store.write() as session:
        existing = session.scalars(select(Project).where(Project.name == project)).first()
        if existing is not None:
            row = project_row(session, project, lock=True)
            space: list[str] | None = list(row.label_space)
            if labels is not None and list(check_label_space(labels)) != space:
                raise ImportFileError(
                    str(path), None, f"--labels differ from project {project!r}'s label space"
                )
            task_type: str | None = row.task_type
        else:
            space = None if labels is None else check_label_space(labels)
            task_type = None
            row = Project(
                name=project,
                task_type="text_classification",
                label_space=space or [],
                settings=check_settings(settings),
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            _tally.create(session, row.id)
        checker = _RowChecker(path, file_format, task_type)
        report = _load(session, row, checker, space)
        if existing is None:
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


def _load(
    session: Session, project: Project, checker: _RowChecker, space: list[str] | None
) -> dict[str, Any]:
    """Check every row and insert the new ones; counts of what happened."""
    known = dict(
        session.execute(
            select(Sample.external_id, Sample.content_hash).where(Sample.project_id == project.id)
        ).all()
    )
    seen: set[str] = set()
    found_labels: set[str] = set()
    labels: dict[str, str] = {}
    tally: Counter[tuple[str, str]] = Counter()
    counts = {"rows": 0, "inserted": 0, "unchanged": 0}

    def new_rows() -> Iterator[tuple[Any, ...]]:
        for raw in read_rows(checker.path, checker.file_format):
            checked = checker.check(raw, space)
            counts["rows"] += 1
            if checked.external_id in seen:
                raise checker.fail(raw, f"duplicate id {checked.external_id!r}")
            seen.add(checked.external_id)
            if checked.label is not None:
                found_labels.add(checked.label)
            previous = known.get(checked.external_id)
            if previous is not None:
                if previous != checked.content_hash:
                    raise checker.fail(
                        raw,
                        f"id {checked.external_id!r} is already in the store with other content",
                    )
                counts["unchanged"] += 1
                continue
            values = checked.as_tuple(project.id)
            if checked.label is not None and checked.split != "gold":
                labels[checked.external_id] = checked.label
            tally[(checked.split, values[5])] += 1
            counts["inserted"] += 1
            yield values

    _insert_samples(session, new_rows())
    if counts["rows"] == 0:
        raise ImportFileError(str(checker.path), None, "no rows to import")
    _insert_labels(session, project.id, labels)
    _tally.add(session, project.id, tally.items())
    return {**counts, "labeled": len(labels), "found_labels": found_labels}


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_samples(session: Session, rows: Iterator[tuple[Any, ...]]) -> None:
    connection = session.connection()
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    columns = ", ".join(_SAMPLE_COLUMNS)
    if connection.dialect.name == "postgresql":
        with dbapi.cursor() as cursor, cursor.copy(f"COPY sample ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(_SAMPLE_COLUMNS))
    statement = f"INSERT INTO sample ({columns}) VALUES ({marks})"
    cursor = dbapi.cursor()
    try:
        for batch in _batches(rows, BATCH_ROWS):
            cursor.executemany(statement, batch)
    finally:
        cursor.close()


def _insert_labels(session: Session, project_id: int, labels: dict[str, str]) -> None:
    """Label rows (method ``import``) for the samples just imported with a label."""
    if not labels:
        return
    now = utcnow()
    new = session.execute(
        select(Sample.id, Sample.external_id)
        .outerjoin(Label, Label.sample_id == Sample.id)
        .where(Sample.project_id == project_id, Sample.state == "labeled")
        .where(Label.sample_id.is_(None))
    )
    rows = [
        {
            "sample_id": sample_id,
            "project_id": project_id,
            "value": labels[external_id],
            "method": "import",
            "agreement": None,
            "n_annotations": 0,
            "updated_at": now,
        }
        for sample_id, external_id in new
        if external_id in labels
    ]
    for start in range(0, len(rows), BATCH_ROWS):
        session.execute(insert(Label), rows[start : start + BATCH_ROWS])
