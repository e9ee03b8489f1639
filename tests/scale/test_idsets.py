"""Id sets as sorted int64 arrays agree with Python sets."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from labelwise.scale.idsets import contains, slice_for_range, sorted_ids

ints = st.lists(st.integers(-(2**40), 2**40), max_size=60)


@given(ints, ints)
def test_contains_agrees_with_a_python_set(members: list[int], queries: list[int]) -> None:
    got = contains(sorted_ids(members), np.array(queries, dtype=np.int64))
    assert got.tolist() == [q in set(members) for q in queries]


@given(ints, st.integers(-(2**40), 2**40), st.integers(0, 2**41))
def test_slice_for_range_keeps_exactly_the_ids_in_range(
    members: list[int], lo: int, width: int
) -> None:
    hi = lo + width
    got = slice_for_range(sorted_ids(members), lo, hi)
    assert got.tolist() == sorted({m for m in members if lo <= m <= hi})


def test_sorted_ids_are_unique_int64() -> None:
    got = sorted_ids(np.array([5, 1, 5, 3], dtype=np.int32))
    assert got.dtype == np.int64 and got.tolist() == [1, 3, 5]
    assert sorted_ids(None).size == 0
