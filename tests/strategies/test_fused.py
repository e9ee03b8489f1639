"""The compiled one-pass scorer: built, bit for bit the numpy kernels' scores (the entropy
within its float32 logarithm's rounding)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import InvalidInputError
from labelwise.strategies import entropy, least_confidence, margin, ratio
from labelwise.strategies import uncertainty as fused

SCORES = {"least_confidence": least_confidence, "margin": margin, "ratio": ratio}


def numpy_path(fn, p: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    return fn(p, kernel="numpy")


def test_the_extension_is_built_here() -> None:
    # `make` builds it (it is optional only for installs without a C compiler); a build that
    # silently lost it would leave every uncertainty score on the slower path.
    assert fused.available(), "labelwise.strategies._fused is not built: run `make`"


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 3000),
    c=st.sampled_from([2, 3, 7, 10, 33, 600]),
    dtype=st.sampled_from([np.float32, np.float64]),
    ties=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_compiled_scores_equal_the_numpy_kernels(
    n: int, c: int, dtype: type, ties: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    raw = rng.random((n, c))
    if ties:  # few distinct values: tied maxima and seconds, exact zeros
        raw = np.floor(raw * 3)
        raw[:, 0] += 1.0
    p = (raw / raw.sum(axis=1, keepdims=True)).astype(dtype)
    assert fused.can_score(p)
    for name, fn in SCORES.items():
        np.testing.assert_array_equal(fn(p), numpy_path(fn, p), err_msg=name)
    if dtype == np.float32:  # the entropy's float32 logarithm is its own: about 1e-7 apart
        np.testing.assert_allclose(entropy(p), numpy_path(entropy, p), rtol=3e-7, atol=3e-7)


def test_the_compiled_logarithm_is_float32_accurate_over_the_whole_range() -> None:
    # rows (x, 1 - x): H = -x ln x - (1 - x) ln(1 - x), for x from the smallest normal float32
    x = np.geomspace(np.finfo(np.float32).tiny, 0.5, 200_000).astype(np.float32)
    p = np.stack([x, 1 - x], axis=1)
    x64, y64 = p[:, 0].astype(np.float64), p[:, 1].astype(np.float64)
    exact = -(x64 * np.log(x64) + y64 * np.log(y64))
    np.testing.assert_allclose(entropy(p), exact, rtol=3e-7, atol=1e-12)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_a_refused_row_raises_the_exact_checks_message(name: str) -> None:
    p = np.full((70_000, 5), 0.2, dtype=np.float32)
    p[69_999, 1] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        SCORES[name](p)
    p[69_999, 1] = -0.1
    p[69_999, 2] = 0.5
    with pytest.raises(InvalidInputError):
        SCORES[name](p)


def test_layouts_it_does_not_take_go_to_the_numpy_kernels() -> None:
    p = np.full((10, 4), 0.25)
    assert fused.can_score(p)
    assert not fused.can_score(np.asfortranarray(np.full((10, 4), 0.25))[:, :3])
    assert not fused.can_score(p.astype(np.float16))
    assert not fused.can_score(p.astype(">f8"))
    assert fused.can_score(p.astype(np.float32), "entropy")
    assert not fused.can_score(p, "entropy")  # float64 rows keep numpy's float64 logarithm
    np.testing.assert_array_equal(margin(p.astype(np.float16)), np.zeros(10))


def test_rows_wider_than_the_entropy_scratch_block() -> None:
    p = np.random.default_rng(3).random((40, 3_000)).astype(np.float32)
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(entropy(p), numpy_path(entropy, p), rtol=3e-7, atol=3e-7)


# -- the kernel argument picks the scorer: no environment switch ---------------------------------
KERNEL_TABLE = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.25, 0.25, 0.5]])
EXPECTED = {
    "least_confidence": [0.3, 0.5, 0.0, 0.5],
    "margin": [-0.5, 0.0, -1.0, -0.25],
    "ratio": [2 / 7, 1.0, 0.0, 0.5],
    "entropy": [
        -(0.1 * np.log(0.1) + 0.2 * np.log(0.2) + 0.7 * np.log(0.7)),
        np.log(2),
        0.0,
        -(0.5 * np.log(0.25) + 0.5 * np.log(0.5)),
    ],
}
ALL_SCORES = {**SCORES, "entropy": entropy}


@pytest.mark.parametrize("kernel", ["numpy", "compiled"])
@pytest.mark.parametrize("name", sorted(ALL_SCORES))
def test_both_kernels_give_the_table_of_expected_scores(name: str, kernel: str) -> None:
    if kernel == "compiled" and not fused.available():
        pytest.skip("labelwise.strategies._fused is not built")
    p = KERNEL_TABLE.astype(np.float32)  # the compiled entropy takes float32 rows
    got = ALL_SCORES[name](p, kernel=kernel)
    np.testing.assert_allclose(got, EXPECTED[name], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(ALL_SCORES))
def test_the_kernel_argument_reaches_the_strategy(name: str) -> None:
    from labelwise.strategies import PoolInputs, get_strategy

    p = KERNEL_TABLE.astype(np.float32)
    numpy_scores = get_strategy(name, kernel="numpy").score(PoolInputs(proba=p))
    np.testing.assert_allclose(numpy_scores, EXPECTED[name], rtol=1e-6, atol=1e-7)
    auto_scores = get_strategy(name).score(PoolInputs(proba=p))
    np.testing.assert_allclose(auto_scores, numpy_scores, rtol=3e-7, atol=3e-7)


def test_compiled_refuses_an_array_it_cannot_take() -> None:
    if not fused.available():
        pytest.skip("labelwise.strategies._fused is not built")
    with pytest.raises(InvalidInputError, match="kernel='compiled'"):
        entropy(KERNEL_TABLE, kernel="compiled")  # float64: numpy's float64 logarithm only


def test_an_unknown_kernel_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="kernel must be one of"):
        margin(KERNEL_TABLE, kernel="fast")  # type: ignore[arg-type]
