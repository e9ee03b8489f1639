"""Reading the files ``labelwise import`` accepts, row by row, with the line each row came from.

CSV and JSONL give file lines (the CSV header is line 1), Parquet gives row numbers from 1,
and a folder of images gives one row per image, its label taken from the subfolder it sits in.
Text is decoded a line at a time in the encoding asked for (UTF-8 by default, a byte-order mark
allowed), so bytes it cannot decode are named by their line, column and byte offset. Readers
only parse; checking the rows is :mod:`labelwise.store.importing`'s job.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from labelwise.store.errors import ImportFileError

__all__ = [
    "IMAGE_SUFFIXES",
    "RawRow",
    "check_encoding",
    "detect_format",
    "read_header",
    "read_rows",
]

FileFormat = Literal["csv", "jsonl", "parquet", "images"]
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: A carriage return that ends a line on its own (old Mac files): the ``csv`` module's line too.
_BARE_CR = re.compile(r"(?<=\r)(?!\n)")


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


def check_encoding(path: Path, encoding: str) -> str:
    """The codec's name of ``encoding`` (``utf-8`` for ``UTF8``); an error naming it if unknown."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ImportFileError(
            str(path), None, f"unknown encoding {encoding!r} (try utf-8, latin-1 or cp1252)"
        ) from None


def read_rows(
    path: Path, file_format: FileFormat | None = None, encoding: str = "utf-8"
) -> Iterator[RawRow]:
    """Rows of ``path`` in file order; CSV and JSONL text decoded from ``encoding``."""
    file_format = file_format or detect_format(path)
    if file_format == "csv":
        return _read_csv(path, encoding)
    if file_format == "jsonl":
        return _read_jsonl(path, encoding)
    if file_format == "parquet":
        return _read_parquet(path)
    return _read_image_folder(path)


def read_header(path: Path, file_format: FileFormat, encoding: str = "utf-8") -> list[str] | None:
    """The column names of a CSV or Parquet file (checked: present, distinct); else None."""
    if file_format == "csv":
        lines = _Lines(path, encoding)
        with lines:
            return _csv_header(path, csv.reader(lines))
    if file_format == "parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise ImportFileError(str(path), None, f"not a readable Parquet file: {exc}") from None
    return None


class _Lines:
    """The decoded lines of a text file, as ``open(newline="")`` gives them, with their places.

    ``line`` is the number of the last line given (from 1); ``record`` holds the lines given
    since :meth:`new_record`, so that a CSV row's own text can be found. Undecodable bytes are
    an :class:`ImportFileError` naming their line, column and byte offset.
    """

    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = "utf-8-sig" if check_encoding(path, encoding) == "utf-8" else encoding
        self.line = 0
        self.record: list[str] = []
        self._handle = path.open("rb")

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._handle.close()

    def __iter__(self) -> Iterator[str]:
        if not _ascii_lines(self.encoding):
            yield from self._wide_lines()
            return
        decoder = codecs.getincrementaldecoder(self.encoding)()
        offset = 0
        for raw in self._handle:
            try:
                text = decoder.decode(raw)
            except UnicodeDecodeError as exc:
                start = max(exc.start, 0)
                column = len(raw[:start].decode(self.encoding, errors="replace")) + 1
                raise self._undecodable(
                    raw[start : max(exc.end, start + 1)], offset + start, self.line + 1, column
                ) from None
            offset += len(raw)
            for piece in _BARE_CR.split(text):
                if piece:
                    self.line += 1
                    self.record.append(piece)
                    yield piece

    def new_record(self) -> None:
        self.record.clear()

    def _wide_lines(self) -> Iterator[str]:
        """Lines of an encoding whose newline is not the byte 0x0a (UTF-16, UTF-32)."""
        data = self._handle.read()
        try:
            text = data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            before = data[: exc.start].decode(self.encoding, errors="replace")
            lines = before.splitlines(keepends=True) or [""]
            last = "" if before.endswith(("\n", "\r")) else lines[-1]
            line = len(lines) + (1 if before.endswith(("\n", "\r")) else 0)
            raise self._undecodable(
                data[exc.start : exc.end], exc.start, line, len(last) + 1
            ) from None
        for piece in re.split(r"(?<=\n)|(?<=\r)(?!\n)", text):
            if piece:
                self.line += 1
                self.record.append(piece)
                yield piece

    def _undecodable(self, bad: bytes, offset: int, line: int, column: int) -> ImportFileError:
        name = self.encoding.removesuffix("-sig")
        return ImportFileError(
            str(self.path),
            line,
            f"the bytes {bad!r} (byte offset {offset}) are not {name} text: "
            "give the file's encoding with --encoding (latin-1, cp1252...)",
            column=column,
        )


def _ascii_lines(encoding: str) -> bool:
    """Whether ``encoding`` writes a newline as the one byte 0x0a (then lines split as bytes)."""
    return '\n,"'.encode(encoding).removeprefix(codecs.BOM_UTF8) == b'\n,"'


def _csv_header(path: Path, reader: Any) -> list[str]:
    try:
        header: list[str] = next(reader)
    except StopIteration:
        raise ImportFileError(str(path), 1, "the file is empty (expected a header)") from None
    except csv.Error as exc:
        raise ImportFileError(str(path), 1, f"unreadable header: {exc}") from None
    if not any(name.strip() for name in header):
        raise ImportFileError(str(path), 1, "the header line is empty (expected column names)")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise ImportFileError(
            str(path), 1, f"the header repeats the column(s) {', '.join(duplicated)}"
        )
    return header


def _read_csv(path: Path, encoding: str) -> Iterator[RawRow]:
    with _Lines(path, encoding) as lines:
        reader = csv.reader(lines)
        header = _csv_header(path, reader)
        width = len(header)
        try:
            while True:
                lines.new_record()
                values = next(reader, None)
                if values is None:
                    return
                if not values:
                    continue
                if len(values) != width:
                    line, column = _field_place(lines, width)
                    raise ImportFileError(
                        str(path),
                        line,
                        f"{len(values)} fields where the header has {width}",
                        column=column,
                    )
                yield RawRow(reader.line_num, dict(zip(header, values, strict=True)))
        except csv.Error as exc:
            raise ImportFileError(str(path), reader.line_num, f"unreadable CSV: {exc}") from None


def _field_place(lines: _Lines, width: int) -> tuple[int, int]:
    """Line and column where the row just read goes wrong: its first field past ``width``,
    or, if it has fewer, its end."""
    record = lines.record
    first = lines.line - len(record) + 1
    fields, quoted = 0, False
    for number, text in enumerate(record):
        for index, char in enumerate(text):
            if char == '"':
                quoted = not quoted
            elif char == "," and not quoted:
                fields += 1
                if fields == width:
                    return first + number, index + 2
    last = record[-1] if record else ""
    return lines.line, len(last.rstrip("\r\n")) + 1


def _read_jsonl(path: Path, encoding: str) -> Iterator[RawRow]:
    with _Lines(path, encoding) as lines:
        for text in lines:
            if not text.strip():
                continue
            try:
                fields = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ImportFileError(
                    str(path), lines.line, f"not valid JSON: {exc.msg}", column=exc.colno
                ) from None
            if not isinstance(fields, dict):
                raise ImportFileError(str(path), lines.line, "each line must be a JSON object")
            yield RawRow(lines.line, fields)


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
