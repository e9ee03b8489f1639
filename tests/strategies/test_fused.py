"""The compiled one-pass scorer: built, and bit for bit the numpy kernels' scores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import InvalidInputError
from labelwise.strategies import fused, least_confidence, margin, ratio

SCORES = {"least_confidence": least_confidence, "margin": margin, "ratio": ratio}


def numpy_path(fn, p: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABELWISE_PURE_NUMPY", "1")
        assert not fused.available()
        return fn(p)


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
    np.testing.assert_array_equal(margin(p.astype(np.float16)), np.zeros(10))
