"""Uncertainty scores against slow, literal references and known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelwise.errors import InvalidInputError
from labelwise.strategies import entropy, least_confidence, margin, ratio


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


@pytest.mark.parametrize("fn", [entropy, least_confidence, margin, ratio])
def test_bad_probabilities_are_refused(fn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match="NaN"):
        fn(np.array([[0.5, np.nan]]))
    with pytest.raises(InvalidInputError, match="sum to 1"):
        fn(np.array([[0.5, 0.6]]))
    with pytest.raises(InvalidInputError, match="logits"):
        fn(np.array([[-0.5, 1.5]]))
    with pytest.raises(InvalidInputError, match="2-dimensional"):
        fn(np.array([0.5, 0.5]))
