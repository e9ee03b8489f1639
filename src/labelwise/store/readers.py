"""Reading the files ``labelwise import`` accepts, row by row, with the line each row came from.

CSV and JSONL give file lines (the CSV header is line 1), Parquet gives row numbers from 1,
and a folder of images gives one row per image, its label taken from the subfolder it sits in.
Readers only parse; checking the rows is :mod:`labelwise.store.importing`'s job.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from labelwise.store.errors import ImportFileError

__all__ = ["IMAGE_SUFFIXES", "RawRow", "detect_format", "read_rows"]

FileFormat = Literal["csv", "jsonl", "parquet", "images"]
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class RawRow:
    """One row of an input file: where it was and its fields, as read."""

    line: int
    fields: dict[str, Any]


def detect_format(path: Path) -> FileFormat:
    """The format of ``path`` from its suffix, or ``"images"`` for a folder."""
    if path.is_dir():
        return "images"
    if not path.exists():
        raise ImportFileError(str(path), None, "no such file or folder")
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(_SUFFIXES))
        raise ImportFileError(
            str(path), None, f"unknown file type {path.suffix!r} (expected {known} or a folder)"
        ) from None


def read_rows(path: Path, file_format: FileFormat | None = None) -> Iterator[RawRow]:
    """Rows of ``path`` in file order."""
    file_format = file_format or detect_format(path)
    if file_format == "csv":
        return _read_csv(path)
    if file_format == "jsonl":
        return _read_jsonl(path)
    if file_format == "parquet":
        return _read_parquet(path)
    return _read_image_folder(path)


def _read_csv(path: Path) -> Iterator[RawRow]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFileError(str(path), 1, "the file is empty (expected a header)") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportFileError(str(path), 1, f"unreadable header: {exc}") from None
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise ImportFileError(str(path), 1, f"duplicate column(s) {', '.join(duplicated)}")
        width = len(header)
        line = 1
        try:
            for values in reader:
                line = reader.line_num
                if not values:
                    continue
                if len(values) != width:
                    raise ImportFileError(
                        str(path), line, f"{len(values)} fields where the header has {width}"
                    )
                yield RawRow(line, dict(zip(header, values, strict=True)))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportFileError(str(path), line + 1, f"unreadable CSV: {exc}") from None


def _read_jsonl(path: Path) -> Iterator[RawRow]:
    with path.open(encoding="utf-8") as handle:
        line = 0
        try:
            for line, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    fields = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ImportFileError(str(path), line, f"not valid JSON: {exc.msg}") from None
                if not isinstance(fields, dict):
                    raise ImportFileError(str(path), line, "each line must be a JSON object")
                yield RawRow(line, fields)
        except UnicodeDecodeError as exc:
            raise ImportFileError(str(path), line + 1, f"not UTF-8 text: {exc}") from None


def _read_parquet(path: Path) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ImportFileError(str(path), None, f"not a readable Parquet file: {exc}") from None
    row = 0
    for batch in parquet.iter_batches(batch_size=65_536):
        for fields in batch.to_pylist():
            row += 1
            yield RawRow(row, fields)


def _read_image_folder(path: Path) -> Iterator[RawRow]:
    root = path.resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ImportFileError(str(path), None, "the folder holds no image files")
    for number, file in enumerate(files, start=1):
        relative = file.relative_to(root)
        fields: dict[str, Any] = {"id": relative.as_posix(), "image": str(file)}
        if len(relative.parts) > 1:
            fields["label"] = relative.parts[0]
        yield RawRow(number, fields)
