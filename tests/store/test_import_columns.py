"""The vectorised import steps equal Python's own functions, value for value, byte for byte."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.store._columns import (
    blank_mask,
    content_hashes,
    first_true,
    json_object,
    json_strings,
    strip,
)

# Printable ASCII, the JSON specials, Python's odd whitespace and some non-ASCII.
TRICKY = st.text(
    alphabet=st.sampled_from(
        [*' ab~"\\\t\n\r\x0b\x0c\x1c\x1f\x7f\x00', "é", "\u3000", "\u00a0", "\u2028", "𝄞"]
    ),
    max_size=8,
)
VALUES = st.lists(st.one_of(st.none(), TRICKY, st.text(max_size=8)), max_size=30)
#: No per-example deadline: on a loaded machine an example's time says nothing of its result.
UNTIMED = settings(deadline=None)


def arrow(values: list[str | None]) -> pa.Array:
    return pa.array(values, pa.string())


@UNTIMED
@given(VALUES)
def test_strip_is_python_strip(values: list[str | None]) -> None:
    expected = [None if v is None else v.strip() for v in values]
    assert strip(arrow(values)).to_pylist() == expected


@UNTIMED
@given(VALUES)
def test_blank_mask_is_null_or_only_whitespace(values: list[str | None]) -> None:
    expected = [v is None or not v.strip() for v in values]
    assert blank_mask(arrow(values)).tolist() == expected


@UNTIMED
@given(VALUES)
def test_json_strings_are_json_dumps(values: list[str | None]) -> None:
    assert json_strings(arrow(values)).to_pylist() == [json.dumps(v) for v in values]


@UNTIMED
@given(st.dictionaries(TRICKY, st.lists(st.one_of(st.none(), TRICKY), min_size=3, max_size=3)))
def test_json_object_is_json_dumps_with_sorted_keys(columns: dict[str, list[str | None]]) -> None:
    made = json_object({k: arrow(v) for k, v in columns.items()}, 3)
    if not columns:
        assert made is None
        return
    assert made is not None
    rows = [{k: v[i] for k, v in columns.items()} for i in range(3)]
    assert made.to_pylist() == [json.dumps(row, sort_keys=True) for row in rows]


def test_content_hashes_are_md5_of_the_json_list() -> None:
    text = ["good film", 'say "hi"', "café"]
    split = ["pool", "eval", "gold"]
    meta = [{"lang": "en"}, {"lang": "en"}, {"lang": "fr"}]
    digests = content_hashes(
        [
            json_strings(arrow(text)),
            "null",
            json_strings(arrow(split)),
            "null",
            json_object({"lang": arrow([m["lang"] for m in meta])}, 3),  # type: ignore[list-item]
        ]
    )
    expected = [
        hashlib.md5(
            json.dumps([t, None, s, None, m], sort_keys=True, default=str).encode()
        ).hexdigest()
        for t, s, m in zip(text, split, meta, strict=True)
    ]
    assert digests == expected


def test_first_true() -> None:
    assert first_true(np.array([False, True, True])) == 1
    assert first_true(np.zeros(4, dtype=bool)) is None
