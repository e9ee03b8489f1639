"""Vectorised versions of the per-row steps of an import, over Arrow string columns.

Each function here gives, for a whole column at once, exactly what the row-by-row code of
:mod:`labelwise.store.importing` gives for one value: Python's ``str.strip``, the blank test,
``json.dumps`` of a string (``ensure_ascii``, so ``"é"`` becomes ``"\\u00e9"``), the metadata
object with sorted keys, and the MD5 content hash of
``json.dumps([text, uri, split, label, meta], sort_keys=True)``. Arrow's kernels do the common
case (printable ASCII) and Python's own functions the rare values outside it, so the results
are equal byte for byte and the hashes of a store written by either path agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "blank_mask",
    "content_hashes",
    "first_true",
    "json_object",
    "json_strings",
    "strip",
]

#: Values made only of printable ASCII: Python's whitespace there is the space alone.
_PRINTABLE_ASCII = r"^[\x20-\x7e]*$"
#: Printable ASCII but ``"`` and ``\``: ``json.dumps`` only adds the quotes.
_JSON_PLAIN = r"^[\x20\x21\x23-\x5b\x5d-\x7e]*$"
#: A printable ASCII character other than the space: its value is not blank.
_VISIBLE_ASCII = r"[\x21-\x7e]"
#: Nothing but spaces (or nothing): blank.
_SPACES = r"^ *$"


def _outside(values: pa.Array, pattern: str) -> np.ndarray:
    """Positions of the non-null values that do not match ``pattern``."""
    matched = pc.fill_null(pc.match_substring_regex(values, pattern), True)
    return np.flatnonzero(~matched.to_numpy(zero_copy_only=False))


def _replace(values: pa.Array, positions: np.ndarray, replacements: list[str]) -> pa.Array:
    mask = np.zeros(len(values), dtype=bool)
    mask[positions] = True
    return pc.replace_with_mask(values, pa.array(mask), pa.array(replacements, pa.string()))


def strip(values: pa.Array) -> pa.Array:
    """``str.strip()`` of each value (nulls stay null).

    Parameters
    ----------
    values : pyarrow.Array of strings, shape (n,)
    """
    stripped = pc.utf8_trim(values, " ")
    odd = _outside(values, _PRINTABLE_ASCII)
    if len(odd) == 0:
        return stripped
    return _replace(stripped, odd, [v.strip() for v in values.take(odd).to_pylist()])


def blank_mask(values: pa.Array) -> np.ndarray:
    """True where a value is null or only whitespace (Python's ``not value.strip()``).

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
    """
    visible = pc.fill_null(pc.match_substring_regex(values, _VISIBLE_ASCII), False)
    blank = ~visible.to_numpy(zero_copy_only=False)
    spaces = pc.fill_null(pc.match_substring_regex(values, _SPACES), True)
    unsure = np.flatnonzero(blank & ~spaces.to_numpy(zero_copy_only=False))
    if len(unsure):
        texts = values.take(unsure).to_pylist()
        blank[unsure] = [not text.strip() for text in texts]
    return blank


def json_strings(values: pa.Array) -> pa.Array:
    """``json.dumps(value)`` of each value: a quoted, escaped string, or ``null`` for null."""
    quoted = pc.binary_join_element_wise('"', values, '"', "")
    odd = _outside(values, _JSON_PLAIN)
    if len(odd):
        quoted = _replace(
            quoted, odd, [encode_basestring_ascii(v) for v in values.take(odd).to_pylist()]
        )
    return pc.fill_null(quoted, "null")


def json_object(columns: dict[str, pa.Array], size: int) -> pa.Array | None:
    """``json.dumps(row, sort_keys=True)`` of each row of ``columns``; None without columns.

    Parameters
    ----------
    columns : dict of str to pyarrow.Array of strings
        The metadata columns, each of length ``size``.
    size : int
        The number of rows.
    """
    if not columns:
        return None
    parts: list[pa.Array | str] = []
    for number, name in enumerate(sorted(columns)):
        parts.append(("{" if number == 0 else ", ") + encode_basestring_ascii(name) + ": ")
        parts.append(json_strings(columns[name]))
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def content_hashes(fields: Sequence[pa.Array | str]) -> list[str]:
    """MD5 hex digests of ``json.dumps(list(fields))``, one per row.

    Parameters
    ----------
    fields : sequence of pyarrow.Array or str
        Each item already JSON-encoded (see :func:`json_strings`); a str is the same for
        every row. At least one item is an array.
    """
    parts: list[pa.Array | str] = ["["]
    for number, field in enumerate(fields):
        if number:
            parts.append(", ")
        parts.append(field)
    parts.append("]")
    joined = pc.binary_join_element_wise(*parts, "").cast(pa.binary())
    md5 = hashlib.md5
    return [md5(data, usedforsecurity=False).hexdigest() for data in joined.to_pylist()]


def first_true(mask: np.ndarray) -> int | None:
    """The first position where ``mask`` is true, or None."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None
