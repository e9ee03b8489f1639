"""labelwise.validation: the fast sum test of probabilities accepts exactly what the literal
float64 check accepts, and every refusal keeps its message."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelwise.errors import BatchSizeError, InvalidInputError
from labelwise.validation import (
    PROBA_SUM_ATOL,
    check_batch_size,
    check_exclude,
    check_matrix,
    check_proba,
    check_proba_layout,
    check_rng,
    check_scores,
)


def exact_verdict(p: np.ndarray) -> str | None:
    """What the literal check says: None (accepted) or which rule the array breaks."""
    if not np.isfinite(p).all():
        return "NaN"
    if not (np.abs(p.sum(axis=-1, dtype=np.float64) - 1.0) <= PROBA_SUM_ATOL).all():
        return "sum to 1"
    if p.min() < 0.0 or p.max() > 1.0 + PROBA_SUM_ATOL:
        return "logits"
    return None


def verdict(p: np.ndarray, ndim: int = 2) -> str | None:
    try:
        check_proba(p, ndim=ndim)
    except InvalidInputError as exc:
        for rule in ("NaN", "sum to 1", "logits"):
            if rule in str(exc):
                return rule
        raise
    return None


EDGE_VALUES = [0.0, 1e-45, -1e-45, 1e-3, 0.25, 0.5, 1.0, 1.0005, 1.001, 1.0015, -0.0, -1e-3]


@st.composite
def near_proba(draw: st.DrawFn, dtype: type = np.float64) -> np.ndarray:
    """Rows that are probabilities, then nudged: sums at the tolerance's edge, NaN, infinity,
    negative values, values above one."""
    n = draw(st.integers(1, 30))
    c = draw(st.integers(2, 7))
    raw = draw(arrays(np.float64, (n, c), elements=st.floats(0.0, 1.0)))
    raw[:, 0] += 1e-9
    p = raw / raw.sum(axis=1, keepdims=True)
    for _ in range(draw(st.integers(0, 3))):
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, c - 1))
        kind = draw(st.sampled_from(["value", "shift", "nan", "inf"]))
        if kind == "value":
            p[i, j] = draw(st.sampled_from(EDGE_VALUES))
        elif kind == "shift":  # move a row's sum to just inside or outside the tolerance
            p[i, j] += (
                draw(st.sampled_from([-1, 1]))
                * PROBA_SUM_ATOL
                * draw(st.sampled_from([0.999, 0.99999, 1.0, 1.00001, 1.001, 2.0]))
            )
        else:
            p[i, j] = np.nan if kind == "nan" else draw(st.sampled_from([np.inf, -np.inf]))
    return p.astype(dtype)


@settings(max_examples=200, deadline=None)
@given(near_proba(np.float64))
def test_fast_check_agrees_with_exact_check_float64(p: np.ndarray) -> None:
    assert verdict(p) == exact_verdict(p)


@settings(max_examples=200, deadline=None)
@given(near_proba(np.float32))
def test_fast_check_agrees_with_exact_check_float32(p: np.ndarray) -> None:
    assert verdict(p) == exact_verdict(p)


@settings(max_examples=100, deadline=None)
@given(near_proba(np.float64), st.integers(1, 4))
def test_fast_check_of_3d_arrays_agrees_with_exact_check(p: np.ndarray, k: int) -> None:
    stacked = np.stack([np.roll(p, i, axis=0) for i in range(k)])
    assert verdict(stacked, ndim=3) == exact_verdict(stacked)
    strided = np.swapaxes(np.swapaxes(stacked, 0, 1).copy(), 0, 1)[:, ::-1]  # not contiguous
    assert verdict(strided, ndim=3) == exact_verdict(strided)


def test_rows_just_inside_the_tolerance_are_accepted() -> None:
    # The fast test refuses them (they are within rounding of the edge); the float64 sums
    # decide, and accept them.
    p = np.full((40_000, 2), 0.5, dtype=np.float32)
    p[-1] = [0.5, 0.5 + 0.9995 * PROBA_SUM_ATOL]
    assert check_proba(p) is p


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_arrays_keep_every_message(dtype: type) -> None:
    n = 100_000
    p = np.full((n, 4), 0.25, dtype=dtype)
    assert check_proba(p) is p
    for row in (0, n // 2, n - 1):  # first, middle and last block
        bad = p.copy()
        bad[row, 1] = np.nan
        with pytest.raises(InvalidInputError, match="1 NaN or infinite"):
            check_proba(bad)
        bad = p.copy()
        bad[row] = [0.5, 0.25, 0.25, 0.25]
        with pytest.raises(InvalidInputError, match=r"one row sums to 1\.25\b"):
            check_proba(bad)
        bad = p.copy()
        bad[row] = [-0.25, 0.75, 0.25, 0.25]
        with pytest.raises(InvalidInputError, match="logits"):
            check_proba(bad)


def test_check_proba_returns_floating_input_without_a_copy() -> None:
    p = np.full((50_000, 2), 0.5, dtype=np.float32)
    assert check_proba(p) is p
    ints = np.zeros((3, 2), dtype=np.int64)
    ints[:, 0] = 1
    out = check_proba(ints)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, ints)


def test_layout_check_reads_no_values() -> None:
    p = np.full((3, 2), np.nan)
    assert check_proba_layout(p) is p
    with pytest.raises(InvalidInputError, match="at least 2 classes"):
        check_proba_layout(np.ones((3, 1)))
    with pytest.raises(InvalidInputError, match="3-dimensional"):
        check_proba_layout(np.ones((3, 2)), ndim=3)
    with pytest.raises(InvalidInputError, match="numeric"):
        check_proba_layout(np.array([["a", "b"]]))
    with pytest.raises(InvalidInputError, match="numeric"):
        check_proba_layout(np.ones((2, 2), dtype=bool))


def test_many_classes_in_float32_are_checked_in_float64() -> None:
    c = 5_000  # float32 rounding over a row could reach 1e-3 / 4
    p = np.full((16, c), 1.0 / c, dtype=np.float32)
    assert check_proba(p) is p
    p[3, 0] += 2 * PROBA_SUM_ATOL
    with pytest.raises(InvalidInputError, match="sum to 1"):
        check_proba(p)


def test_other_checks_keep_their_behaviour() -> None:
    gen = np.random.default_rng(1)
    assert check_rng(gen) is gen
    assert isinstance(check_rng(3), np.random.Generator)
    with pytest.raises(InvalidInputError, match="rng"):
        check_rng("seed")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="NaN"):
        check_matrix(np.array([[1.0, np.inf]]), "embeddings")
    with pytest.raises(InvalidInputError, match="1-dimensional"):
        check_scores(np.ones((2, 2)))
    assert check_batch_size(np.int64(3), 3) == 3
    with pytest.raises(BatchSizeError, match="exceeds"):
        check_batch_size(4, 3)
    with pytest.raises(BatchSizeError, match="int"):
        check_batch_size(True, 3)
    assert check_exclude([0, 2], 4).tolist() == [True, False, True, False]
    with pytest.raises(InvalidInputError, match="outside"):
        check_exclude([4], 4)
