"""Expected gradient length against explicit outer products and norms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelwise.errors import InvalidInputError
from labelwise.strategies import PoolInputs, expected_gradient_length, get_strategy


def ref_egl(proba: np.ndarray, embeddings: np.ndarray, bias: bool = False) -> list[float]:
    """sum_y p_y ||dCE/dW||_F with the gradient written out as an outer product, in loops."""
    n_items, c = proba.shape
    out = []
    for n in range(n_items):
        p, h = proba[n], embeddings[n]
        total = 0.0
        for y in range(c):
            residual = p - np.eye(c)[y]  # dCE/dlogits for label y
            grad_w = np.outer(residual, h)  # (C, d)
            sq = sum(float(g) ** 2 for g in grad_w.ravel())
            if bias:
                sq += sum(float(r) ** 2 for r in residual)  # dCE/db = residual
            total += p[y] * math.sqrt(sq)
        out.append(total)
    return out


@st.composite
def pools(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 8))
    c = draw(st.integers(2, 5))
    d = draw(st.integers(1, 6))
    raw = draw(arrays(np.float64, (n, c), elements=st.floats(0.0, 1.0)))
    raw[:, 0] += 1e-9
    h = draw(arrays(np.float64, (n, d), elements=st.floats(-10.0, 10.0)))
    return raw / raw.sum(axis=1, keepdims=True), h


@settings(max_examples=150, deadline=None)
@given(pools(), st.booleans())
def test_matches_explicit_gradients(pool: tuple[np.ndarray, np.ndarray], bias: bool) -> None:
    proba, h = pool
    np.testing.assert_allclose(
        expected_gradient_length(proba, h, bias=bias), ref_egl(proba, h, bias), atol=1e-9
    )


def test_matches_autograd_style_gradient_of_a_softmax_layer() -> None:
    """The gradient of -log softmax(W h)_y wrt W by finite differences agrees with the formula."""
    rng = np.random.default_rng(0)
    c, d = 3, 4
    w, h = rng.normal(size=(c, d)), rng.normal(size=d)

    def loss(weights: np.ndarray, y: int) -> float:
        z = weights @ h
        return float(np.log(np.exp(z).sum()) - z[y])

    logits = w @ h
    p = np.exp(logits - logits.max())
    p /= p.sum()
    expected = 0.0
    for y in range(c):
        grad = np.zeros_like(w)
        for i in range(c):
            for j in range(d):
                step = np.zeros_like(w)
                step[i, j] = 1e-6
                grad[i, j] = (loss(w + step, y) - loss(w - step, y)) / 2e-6
        expected += p[y] * np.linalg.norm(grad)
    assert expected_gradient_length(p[None], h[None])[0] == pytest.approx(expected, rel=1e-6)


def test_certain_predictions_and_zero_embeddings_give_zero() -> None:
    proba = np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    h = np.array([[1.0, 2.0], [0.0, 0.0]])
    np.testing.assert_allclose(expected_gradient_length(proba, h), [0.0, 0.0], atol=1e-12)
    # with a bias the zero embedding still moves the bias
    assert expected_gradient_length(proba, h, bias=True)[1] > 0


def test_scales_with_the_embedding_norm() -> None:
    proba = np.array([[0.5, 0.5]])
    # sum_y 0.5 * sqrt(0.5) * ||h|| = sqrt(0.5) * 5
    assert expected_gradient_length(proba, [[3.0, 4.0]])[0] == pytest.approx(5 * math.sqrt(0.5))


def test_mismatched_or_bad_inputs_are_refused() -> None:
    proba = np.full((3, 2), 0.5)
    with pytest.raises(InvalidInputError, match="same pool items"):
        expected_gradient_length(proba, np.zeros((4, 2)))
    with pytest.raises(InvalidInputError, match="NaN"):
        expected_gradient_length(proba, np.array([[0.0, np.nan]] * 3))
    with pytest.raises(InvalidInputError, match="sum to 1"):
        expected_gradient_length(proba * 2, np.zeros((3, 2)))


def test_strategy_scores_chunk_by_chunk_and_picks_the_top() -> None:
    rng = np.random.default_rng(2)
    proba = rng.dirichlet(np.ones(4), size=50)
    h = rng.normal(size=(50, 6))
    scores = expected_gradient_length(proba, h)
    strategy = get_strategy("egl", chunk_size=7)
    assert strategy.needs == {"proba", "embeddings"}
    inputs = PoolInputs(proba=proba, embeddings=h, exclude=np.array([int(np.argmax(scores))]))
    np.testing.assert_allclose(strategy.score(inputs), scores)  # type: ignore[attr-defined]
    selection = strategy.select(inputs, 5, rng=0)
    order = [i for i in np.lexsort((np.arange(50), -scores)) if i != np.argmax(scores)]
    np.testing.assert_array_equal(selection.indices, order[:5])
    np.testing.assert_allclose(selection.scores, scores[order[:5]])
