"""The columnar import: CSV and all-string Parquet files checked and written a table at a time.

It does what :func:`labelwise.store._rows.load_rows` does, with the same result, but each
step runs over a whole column (Arrow kernels, numpy masks, one ``executemany`` or ``COPY``)
instead of once per row in Python. Every check yields a mask of bad rows; the first bad row of
the file, if any, is then handed to :class:`~labelwise.store._rows.RowChecker` itself, so the
message (file, line, problem) is the row path's, word for word. Where the vectorised checks
and the row checker disagree about a row, :class:`NeedsRowReader` hands the whole file to the
row path rather than guess.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from labelwise.store import _bulk, _tally
from labelwise.store._columns import (
    blank_mask,
    content_hashes,
    first_true,
    json_object,
    json_strings,
    strip,
)
from labelwise.store._rows import RESERVED, RowChecker
from labelwise.store._table_readers import NeedsRowReader
from labelwise.store.errors import ImportFileError
from labelwise.store.readers import RawRow
from labelwise.store.schema import SPLITS

__all__ = ["load_tables"]


def _numpy(mask: pa.Array) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _string_column(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    return table.column(name).combine_chunks()


class _Known:
    """The samples a project already holds: content hash by external id."""

    def __init__(self, ids: list[str], hashes: list[str]) -> None:
        self.ids = pa.array(ids, pa.string())
        self.hashes = pa.array(hashes, pa.string())

    def match(self, ids: pa.Array, hashes: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Masks of the rows already held, and of those held with other content."""
        if len(self.ids) == 0:
            none = np.zeros(len(ids), dtype=bool)
            return none, none
        at = pc.index_in(ids, value_set=self.ids)
        held = _numpy(pc.is_valid(at))
        differs = _numpy(pc.fill_null(pc.not_equal(self.hashes.take(at), hashes), False))
        return held, held & differs


def _first_repeat(ids: list[str], seen: set[str]) -> int | None:
    """The first position whose id is in ``seen`` or earlier in ``ids``; adds ``ids`` to it."""
    fresh = set(ids)
    if len(fresh) == len(ids) and seen.isdisjoint(fresh):
        seen |= fresh
        return None
    earlier: set[str] = set()
    for position, external_id in enumerate(ids):
        if external_id in seen or external_id in earlier:
            return position
        earlier.add(external_id)
    raise AssertionError("unreachable: a repeated id was counted")


class _TableLoad:
    """Running state of one columnar import: ids seen, labels found, counts."""

    def __init__(
        self,
        session: Session,
        project_id: int,
        checker: RowChecker,
        space: list[str] | None,
        line_of: Callable[[int], int],
    ) -> None:
        self.session = session
        self.project_id = project_id
        self.checker = checker
        self.space = space
        self.line_of = line_of
        self.known = _Known(*_bulk.known_hashes(session, project_id))
        self.seen: set[str] = set()
        self.found_labels: set[str] = set()
        self.labels: dict[str, str] = {}
        self.tally: Counter[tuple[str, str]] = Counter()
        self.counts = {"rows": 0, "inserted": 0, "unchanged": 0}

    def add(self, table: pa.Table) -> pa.Table:
        """Check ``table`` (the next rows of the file); its new rows, to insert.

        The rows returned have the columns of :data:`labelwise.store._bulk.SAMPLE_COLUMNS`
        but the first.
        """
        n = table.num_rows
        if n == 0:
            return table
        offset = self.counts["rows"]
        column = {name: _string_column(table, name) for name in RESERVED}
        id_blank = blank_mask(column["id"])
        ids = strip(column["id"])
        text_blank = blank_mask(column["text"])
        text = pc.if_else(pa.array(text_blank), pa.scalar(None, pa.string()), column["text"])
        image_blank = blank_mask(column["image"])
        if self.checker.task_type is None:
            image_first = not image_blank[0]
            self.checker.task_type = (
                "image_classification" if image_first else "text_classification"
            )
        split_blank = blank_mask(column["split"])
        split = pc.if_else(pa.array(split_blank), "pool", strip(column["split"]))
        label_blank = blank_mask(column["label"])
        label = pc.if_else(
            pa.array(label_blank), pa.scalar(None, pa.string()), strip(column["label"])
        )

        task_type = self.checker.task_type
        bad = id_blank.copy()
        if task_type == "text_classification":
            bad |= text_blank
        elif task_type == "image_classification":
            bad |= image_blank
        elif not set(table.column_names) - set(RESERVED):
            bad[:] = True  # a tabular row with no columns of its own
        bad |= ~_numpy(pc.is_in(split, value_set=pa.array(SPLITS, pa.string())))
        if self.space is not None:
            in_space = _numpy(pc.is_in(label, value_set=pa.array(self.space, pa.string())))
            bad |= ~label_blank & ~in_space
        uri, bad_image = self._uris(strip(column["image"]), image_blank)
        bad |= bad_image

        extra = {name: table.column(name).combine_chunks() for name in table.column_names}
        meta = json_object({k: v for k, v in extra.items() if k not in RESERVED}, n)
        hashes = pa.array(
            content_hashes(
                [
                    json_strings(text),
                    json_strings(uri),
                    json_strings(split),
                    json_strings(label),
                    "null" if meta is None else meta,
                ]
            ),
            pa.string(),
        )
        held, changed = self.known.match(ids, hashes)
        repeat = _first_repeat(ids.to_pylist(), self.seen)
        first = first_true(bad | changed)
        if repeat is not None and (first is None or repeat < first):
            first = repeat
        if first is not None:
            raise self._error(table, offset, first, repeat == first, bool(changed[first]))

        self.counts["rows"] += n
        self.counts["unchanged"] += int(held.sum())
        self.found_labels.update(pc.unique(label.drop_null()).to_pylist())
        is_gold = pc.equal(split, "gold")
        state = pc.if_else(
            pc.and_(pa.array(~label_blank), pc.invert(is_gold)), "labeled", "unlabeled"
        )
        rows = pa.table(
            {
                "external_id": ids,
                "text": text,
                "uri": uri,
                "split": split,
                "state": state,
                "gold_label": pc.if_else(is_gold, label, pa.scalar(None, pa.string())),
                "meta": pa.nulls(n, pa.string()) if meta is None else meta,
                "content_hash": hashes,
                "label": label,
            }
        ).filter(pa.array(~held))
        self._remember(rows)
        return rows.drop_columns(["label"])

    def _uris(self, image: pa.Array, image_blank: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """The kept URI of each row's image (checked like the row path), and the bad ones."""
        bad = np.zeros(len(image), dtype=bool)
        if image_blank.all():
            return pa.nulls(len(image), pa.string()), bad
        uris: list[str | None] = [None] * len(image)
        values = image.to_pylist()
        placeholder = RawRow(0, {})
        for position in np.flatnonzero(~image_blank):
            try:
                uris[position] = self.checker.check_image(placeholder, values[position])
            except ImportFileError:
                bad[position] = True
        return pa.array(uris, pa.string()), bad

    def _remember(self, rows: pa.Table) -> None:
        """Counts, tallies and import labels of the rows about to be inserted."""
        self.counts["inserted"] += rows.num_rows
        groups = rows.group_by(["split", "state"]).aggregate([("external_id", "count")])
        for split, state, n in zip(
            groups.column("split").to_pylist(),
            groups.column("state").to_pylist(),
            groups.column("external_id_count").to_pylist(),
            strict=True,
        ):
            self.tally[(split, state)] += n
        labeled = rows.filter(pc.equal(rows.column("state"), "labeled"))
        self.labels.update(
            zip(
                labeled.column("external_id").to_pylist(),
                labeled.column("label").to_pylist(),
                strict=True,
            )
        )

    def _error(
        self, table: pa.Table, offset: int, position: int, repeated: bool, changed: bool
    ) -> Exception:
        """The row path's own error for row ``position`` of ``table``."""
        fields = {name: table.column(name)[position].as_py() for name in table.column_names}
        raw = RawRow(self.line_of(offset + position), fields)
        checked = self.checker.check(raw, self.space)  # raises the row's own problem first
        if repeated:
            return self.checker.fail(raw, f"duplicate id {checked.external_id!r}")
        if changed:
            return self.checker.fail(
                raw, f"id {checked.external_id!r} is already in the store with other content"
            )
        return NeedsRowReader()  # the masks and the row checker disagree: trust the rows

    def finish(self) -> dict[str, Any]:
        """Write the import labels and tallies; the counts for the report."""
        if self.counts["rows"] == 0:
            raise ImportFileError(str(self.checker.path), None, "no rows to import")
        _bulk.insert_labels(self.session, self.project_id, self.labels)
        _tally.add(self.session, self.project_id, self.tally.items())
        return {**self.counts, "labeled": len(self.labels), "found_labels": self.found_labels}


def load_tables(
    session: Session,
    project_id: int,
    checker: RowChecker,
    space: list[str] | None,
    tables: Iterable[pa.Table],
    line_of: Callable[[int], int],
) -> dict[str, Any]:
    """Check and insert the rows of ``tables``, in file order; counts of what happened.

    Parameters
    ----------
    tables : iterable of pyarrow.Table
        The file's rows, every column a string column, chunk after chunk.
    line_of : callable
        The line (or row number) that an error names for the row at a position from 0.
    """
    load = _TableLoad(session, project_id, checker, space, line_of)
    with _bulk.sample_table_writer(session, project_id) as insert:
        for table in tables:
            insert(load.add(table))
    return load.finish()
