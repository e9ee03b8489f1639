"""The row-by-row import: each raw row checked in file order, the first bad one raised.

This is the reference behaviour of ``labelwise import``: every format can take this path,
JSONL and image folders always do, and the columnar path of :mod:`labelwise.store._tables`
must give the same store and, for a bad file, the same message. :class:`RowChecker` holds the
checks and messages of one row; both paths use it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from labelwise.store import _bulk, _tally
from labelwise.store.errors import ImportFileError
from labelwise.store.readers import FileFormat, RawRow, read_rows
from labelwise.store.schema import SPLITS

if TYPE_CHECKING:
    from labelwise.store.answers import AnswerSpec

__all__ = ["RESERVED", "RowChecker", "load_rows"]

#: Columns with a meaning of their own; every other column is metadata.
RESERVED = ("id", "text", "image", "label", "split")


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


class RowChecker:
    """Turns raw rows into checked rows; raises on the first bad one.

    ``answers`` is the spec of a number or label-set project: its labels are then checked and
    written as answers are (:mod:`labelwise.store._import_answers`), not against the label
    space. Such a project's rows take this path only (the columnar one knows label spaces).
    """

    def __init__(
        self,
        path: Path,
        file_format: FileFormat,
        task_type: str | None,
        encoding: str = "utf-8",
        answers: AnswerSpec | None = None,
    ) -> None:
        self.answers = answers
        self.path = path
        self.file_format = file_format
        self.encoding = encoding
        self.task_type = task_type
        self.base = path if file_format == "images" else path.parent
        self.unit = "row" if file_format == "parquet" else "line"

    def fail(self, raw: RawRow, problem: str) -> ImportFileError:
        """The error for ``problem`` in ``raw``, naming its file and line."""
        if self.file_format == "images":
            return ImportFileError(str(raw.fields.get("image", self.path)), None, problem)
        return ImportFileError(str(self.path), raw.line, problem, unit=self.unit)

    def check(self, raw: RawRow, label_space: Sequence[str] | None) -> _Row:
        """The checked row of ``raw``; ImportFileError for its first problem."""
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
        uri = None if image is None else self.check_image(raw, image)
        split = "pool" if _blank(fields.get("split")) else str(fields["split"]).strip()
        if split not in SPLITS:
            raise self.fail(raw, f"split {split!r} is not one of {', '.join(SPLITS)}")
        if self.answers is not None:
            label = self.check_answer(raw, fields.get("label"), text)
        else:
            label = None if _blank(fields.get("label")) else str(fields["label"]).strip()
            if label is not None and label_space is not None and label not in label_space:
                raise self.fail(
                    raw, f"label {label!r} is not in the label space ({', '.join(label_space)})"
                )
        meta = {k: v for k, v in fields.items() if k not in RESERVED} or None
        if self.task_type == "tabular_classification" and meta is None:
            raise self.fail(raw, f"sample {external_id!r} has no columns (a tabular project)")
        digest = hashlib.md5(
            json.dumps([text, uri, split, label, meta], sort_keys=True, default=str).encode(),
            usedforsecurity=False,
        ).hexdigest()
        return _Row(external_id, text, uri, split, label, meta, digest)

    def check_answer(self, raw: RawRow, value: Any, text: str | None = None) -> str | None:
        """The stored text of a number, label-set or spans project's label ``value`` (spans
        checked against ``text``); None if blank."""
        from labelwise.store._import_answers import import_answer
        from labelwise.store.answers import AnswerError

        assert self.answers is not None
        if _blank(value):
            return None
        try:
            return import_answer(self.answers, value, text)
        except AnswerError as error:
            raise self.fail(raw, f"label {value!r}: {error}") from None

    def check_image(self, raw: RawRow, image: str) -> str:
        """The URI kept for ``image``: remote as given, local resolved once it opens."""
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


def load_rows(
    session: Session,
    project_id: int,
    checker: RowChecker,
    space: list[str] | None,
    rows: Iterable[RawRow] | None = None,
) -> dict[str, Any]:
    """Check every row in file order and insert the new ones; counts of what happened.

    ``rows`` are the file's rows when another reader made them (the span files of
    :mod:`labelwise.store._import_spans`); by default :func:`read_rows` reads them."""
    known = dict(zip(*_bulk.known_hashes(session, project_id), strict=True))
    seen: set[str] = set()
    found_labels: set[str] = set()
    labels: dict[str, str] = {}
    tally: Counter[tuple[str, str]] = Counter()
    counts = {"rows": 0, "inserted": 0, "unchanged": 0}

    def new_rows() -> Iterator[tuple[Any, ...]]:
        if rows is None:
            source = read_rows(checker.path, checker.file_format, checker.encoding)
        else:
            source = iter(rows)
        for raw in source:
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
            values = checked.as_tuple(project_id)
            if checked.label is not None and checked.split != "gold":
                labels[checked.external_id] = checked.label
            tally[(checked.split, values[5])] += 1
            counts["inserted"] += 1
            yield values

    _bulk.insert_sample_rows(session, new_rows())
    if counts["rows"] == 0:
        raise ImportFileError(str(checker.path), None, "no rows to import")
    _bulk.insert_labels(session, project_id, labels)
    _tally.add(session, project_id, tally.items())
    return {**counts, "labeled": len(labels), "found_labels": found_labels}
