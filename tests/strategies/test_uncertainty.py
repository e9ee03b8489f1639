"""Uncertainty scores against slow, literal references and known values."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelwise.errors import InvalidInputError
from labelwise.strategies import entropy, least_confidence, margin, ratio


@pytest.fixture(scope="module", autouse=True, params=["compiled", "numpy"])
def scorer_path(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Every test here runs through the compiled one-pass scorer (``kernel="auto"``: compiled
    wherever it takes the array) and through the numpy kernels (``kernel="numpy"``)."""
    kernel = "auto" if request.param == "compiled" else "numpy"
    with pytest.MonkeyPatch.context() as patch:
        for name, fn in BASE_SCORES.items():
            bound = functools.partial(fn, kernel=kernel)
            patch.setitem(globals(), name, bound)
            patch.setitem(SCORES, name, bound)
        yield request.param


@st.composite
def probas(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 12))
    c = draw(st.integers(2, 6))
    raw = draw(arrays(np.float64, (n, c), elements=st.floats(0.0, 1.0)))
    raw[:, 0] += 1e-9  # no all-zero row
    return raw / raw.sum(axis=1, keepdims=True)


def ref_entropy(row: list[float]) -> float:
    return -sum(p * math.log(p) for p in row if p > 0)


def ref_sorted(row: list[float]) -> list[float]:
    return sorted(row, reverse=True)


@settings(max_examples=200, deadline=None)
@given(probas())
def test_scores_match_literal_reference(p: np.ndarray) -> None:
    rows = p.tolist()
    np.testing.assert_allclose(entropy(p), [ref_entropy(r) for r in rows], atol=1e-12)
    np.testing.assert_allclose(least_confidence(p), [1 - max(r) for r in rows], atol=1e-12)
    np.testing.assert_allclose(
        margin(p), [ref_sorted(r)[1] - ref_sorted(r)[0] for r in rows], atol=1e-12
    )
    np.testing.assert_allclose(
        ratio(p), [ref_sorted(r)[1] / ref_sorted(r)[0] for r in rows], atol=1e-12
    )


@pytest.mark.parametrize("c", [2, 3, 10, 100])
def test_uniform_is_most_uncertain(c: int) -> None:
    uniform = np.full((1, c), 1.0 / c)
    one_hot = np.eye(c)[:1]
    assert entropy(uniform)[0] == pytest.approx(math.log(c))
    assert entropy(one_hot)[0] == 0.0
    assert least_confidence(uniform)[0] == pytest.approx(1 - 1 / c)
    assert margin(uniform)[0] == pytest.approx(0.0)
    assert ratio(uniform)[0] == pytest.approx(1.0)
    assert margin(one_hot)[0] == -1.0
    assert ratio(one_hot)[0] == 0.0


def test_float32_input_gives_float64_scores() -> None:
    p = np.full((4, 5), 0.2, dtype=np.float32)
    for fn in (entropy, least_confidence, margin, ratio):
        assert fn(p).dtype == np.float64


@pytest.mark.parametrize("name", ["entropy", "least_confidence", "margin", "ratio"])
def test_bad_probabilities_are_refused(name: str) -> None:
    fn = SCORES[name]
    with pytest.raises(InvalidInputError, match="NaN"):
        fn(np.array([[0.5, np.nan]]))
    with pytest.raises(InvalidInputError, match="sum to 1"):
        fn(np.array([[0.5, 0.6]]))
    with pytest.raises(InvalidInputError, match="logits"):
        fn(np.array([[-0.5, 1.5]]))
    with pytest.raises(InvalidInputError, match="2-dimensional"):
        fn(np.array([0.5, 0.5]))


# -- the fused, blocked kernels: float32, many blocks, two threads, any layout -------------------
BASE_SCORES = {
    "entropy": entropy,
    "least_confidence": least_confidence,
    "margin": margin,
    "ratio": ratio,
}
SCORES = dict(BASE_SCORES)  # bound to the kernel under test by the fixture


def ref_scores(name: str, p: np.ndarray) -> np.ndarray:
    """The literal formulas, row by row, in float64 on the values given."""
    rows = np.asarray(p, dtype=np.float64).tolist()
    if name == "entropy":
        return np.array([ref_entropy(r) for r in rows])
    if name == "least_confidence":
        return np.array([1 - max(r) for r in rows])
    top = [ref_sorted(r)[:2] for r in rows]
    if name == "margin":
        return np.array([second - first for first, second in top])
    return np.array([second / first for first, second in top])


def softmax_rows(n: int, c: int, seed: int, dtype: type = np.float32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)) * rng.gamma(2.0, 1.5, size=(n, 1))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = (e / e.sum(axis=1, keepdims=True)).astype(dtype)
    p[::7, 0] = 0.0  # exact zeros (0 log 0 = 0) ...
    p[::7] /= p[::7].sum(axis=1, keepdims=True)
    p[::11] = np.eye(c, dtype=dtype)[1]  # ... one-hot rows ...
    p[5::13, :2] = p[5::13, :2].max(axis=1, keepdims=True)  # ... and tied top classes
    p[5::13] /= p[5::13].sum(axis=1, keepdims=True)
    return p


@settings(max_examples=100, deadline=None)
@given(probas())
def test_float32_scores_match_literal_reference_on_the_float32_values(p: np.ndarray) -> None:
    p32 = p.astype(np.float32)
    for name, fn in SCORES.items():
        np.testing.assert_allclose(fn(p32), ref_scores(name, p32), atol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", sorted(SCORES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_many_blocks_on_two_threads_match_the_reference(name: str, dtype: type) -> None:
    p = softmax_rows(30_000, 10, seed=1, dtype=dtype)  # several blocks, two threads
    fn = SCORES[name]
    got = fn(p)
    assert got.dtype == np.float64
    atol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref_scores(name, p), atol=atol)
    np.testing.assert_array_equal(got, fn(p, n_jobs=1))


@pytest.mark.parametrize("name", sorted(SCORES))
def test_known_values(name: str) -> None:
    p = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    expected = {
        "entropy": [
            -(0.1 * math.log(0.1) + 0.2 * math.log(0.2) + 0.7 * math.log(0.7)),
            math.log(2),
            0.0,
        ],
        "least_confidence": [0.3, 0.5, 0.0],
        "margin": [-0.5, 0.0, -1.0],
        "ratio": [2 / 7, 1.0, 0.0],
    }[name]
    np.testing.assert_allclose(SCORES[name](p), expected, atol=1e-15)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_a_bad_row_in_a_late_block_is_refused_with_the_usual_message(name: str) -> None:
    fn = SCORES[name]
    p = softmax_rows(80_000, 10, seed=2)
    for row, value, message in [
        (79_999, np.nan, "NaN"),
        (65_432, np.inf, "NaN or infinite"),
        (40_000, 0.9, "sum to 1"),
    ]:
        bad = p.copy()
        bad[row, 3] = value
        with pytest.raises(InvalidInputError, match=message):
            fn(bad)
    bad = p.copy()
    bad[71_000, :2] = [-0.5, 1.5]
    bad[71_000, 2:] = 0.0
    with pytest.raises(InvalidInputError, match="logits"):
        fn(bad)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_rows_at_the_edge_of_the_tolerance_are_scored(name: str) -> None:
    p = softmax_rows(30_000, 4, seed=3)
    p[-1] = [0.5, 0.25, 0.25, 0.0009995]  # sums to 1 + 0.9995e-3: inside the tolerance
    got = SCORES[name](p)
    np.testing.assert_allclose(got[-3:], ref_scores(name, p[-3:]), atol=1e-6)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_any_memory_layout_gives_the_same_scores(
    name: str, tmp_path: Path, scorer_path: str
) -> None:
    fn = SCORES[name]
    p = softmax_rows(20_000, 6, seed=4)
    expected = fn(np.ascontiguousarray(p))
    if name == "entropy" and scorer_path == "compiled":
        # only C-contiguous rows take the compiled float32 logarithm: the others agree to 1e-7
        def same(got: np.ndarray, want: np.ndarray) -> None:
            np.testing.assert_allclose(got, want, rtol=3e-7, atol=3e-7)
    else:
        same = np.testing.assert_array_equal
    same(fn(np.asfortranarray(p)), expected)
    same(fn(p[::-1]), expected[::-1])
    wide = np.zeros((20_000, 12), dtype=np.float32)
    wide[:, ::2] = p
    same(fn(wide[:, ::2]), expected)
    mm = np.lib.format.open_memmap(tmp_path / "p.npy", mode="w+", dtype=p.dtype, shape=p.shape)
    mm[:] = p
    np.testing.assert_array_equal(fn(np.load(tmp_path / "p.npy", mmap_mode="r")), expected)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_many_classes(name: str) -> None:
    p = softmax_rows(50, 1_000, seed=5)  # float32 row sums are then checked in float64
    np.testing.assert_allclose(SCORES[name](p), ref_scores(name, p), atol=1e-6)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_integer_and_empty_inputs(name: str) -> None:
    fn = SCORES[name]
    one_hot = np.array([[0, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(fn(one_hot), ref_scores(name, one_hot), atol=0)
    empty = fn(np.zeros((0, 3), dtype=np.float32))
    assert empty.shape == (0,) and empty.dtype == np.float64


def test_a_tie_at_the_top_has_no_margin() -> None:
    p = np.array([[0.4, 0.2, 0.4], [1 / 3, 1 / 3, 1 / 3]], dtype=np.float32)
    assert margin(p).tolist() == [0.0, 0.0]
    assert ratio(p).tolist() == [1.0, 1.0]
