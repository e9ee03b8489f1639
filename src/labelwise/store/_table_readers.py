"""Reading CSV and all-string Parquet files as Arrow tables of string columns, chunk by chunk.

The columnar twin of :mod:`labelwise.store.readers`: the same rows and fields, but many rows
at a time and parsed by Arrow's multi-threaded reader. Where Arrow cannot read a file the way
Python's ``csv`` module does (a malformed row, a duplicated header, bytes that are not UTF-8),
:class:`NeedsRowReader` says so and the import falls back to the row reader, which names the
line and the problem. Rows carry no line numbers here: :func:`csv_line_of_row` finds the line
of one row when an error has to name it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

__all__ = [
    "NeedsRowReader",
    "csv_line_of_row",
    "read_csv_tables",
    "read_parquet_tables",
    "string_parquet",
]

#: Bytes Arrow parses per block of a CSV file.
_BLOCK_BYTES = 4 << 20


class NeedsRowReader(Exception):
    """The file has to be read row by row (only the row reader can name its problem)."""


def _csv_header(path: Path) -> list[str]:
    """The header, if Arrow will read it as the ``csv`` module does; else NeedsRowReader."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
    except (StopIteration, csv.Error, UnicodeDecodeError):
        raise NeedsRowReader from None
    if len(set(header)) != len(header) or not header or header[0].startswith("\ufeff"):
        raise NeedsRowReader
    return header


def _chunks(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows (the last one fewer) from batches of any size."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            take = batch.slice(0, rows - count)
            pending.append(take)
            count += take.num_rows
            batch = batch.slice(take.num_rows)
            if count == rows:
                yield pa.Table.from_batches(pending).combine_chunks()
                pending, count = [], 0
    if count:
        yield pa.Table.from_batches(pending).combine_chunks()


def read_csv_tables(path: Path, rows: int) -> Iterator[pa.Table]:
    """Tables of about ``rows`` rows of the CSV file ``path``, every column a string column.

    Raises
    ------
    NeedsRowReader
        Where the file is not plain to Arrow; the row reader then finds what is wrong with it.
    """
    from pyarrow import csv as arrow_csv

    header = _csv_header(path)
    try:
        reader = arrow_csv.open_csv(
            path,
            read_options=arrow_csv.ReadOptions(block_size=_BLOCK_BYTES),
            parse_options=arrow_csv.ParseOptions(newlines_in_values=True),
            convert_options=arrow_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
            ),
        )
        if reader.schema.names != header:
            raise NeedsRowReader
        yield from _chunks(iter(reader), rows)
    except pa.ArrowInvalid:
        raise NeedsRowReader from None


def csv_line_of_row(path: Path, index: int) -> int:
    """The file line (the header is line 1) on which row ``index`` (from 0) of ``path`` ends.

    The ``csv`` module's count, as the row reader gives it: blank lines are not rows, and a
    row whose quoted field holds line breaks ends on its last line.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        row = -1
        for values in reader:
            if values:
                row += 1
                if row == index:
                    return reader.line_num
    raise IndexError(f"{path} has no row {index}")


def string_parquet(path: Path) -> bool:
    """Whether ``path`` is a readable Parquet file whose columns are all strings."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception:  # pyarrow raises several types for a damaged file
        return False
    if len(set(schema.names)) != len(schema.names):
        return False
    return all(pa.types.is_string(f.type) or pa.types.is_null(f.type) for f in schema)


def read_parquet_tables(path: Path, rows: int) -> Iterator[pa.Table]:
    """Tables of about ``rows`` rows of the all-string Parquet file ``path``."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=rows):
        table = pa.Table.from_batches([batch])
        yield table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))
