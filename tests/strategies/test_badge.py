"""BADGE against a literal implementation over explicit gradient embeddings."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import InvalidInputError
from labelwise.strategies import PoolInputs, badge, get_strategy

from .test_clustering import literal_d2_seeding


def explicit_gradient_embeddings(proba: np.ndarray, emb: np.ndarray) -> np.ndarray:
    """g_i = (p_i - e_{yhat_i}) (x) h_i, one outer product per row."""
    rows = []
    for p, h in zip(proba, emb, strict=True):
        r = p.astype(np.float64).copy()
        r[int(np.argmax(p))] -= 1.0
        rows.append(np.outer(r, h.astype(np.float64)).ravel())
    return np.array(rows)


def literal_badge(
    proba: np.ndarray, emb: np.ndarray, k: int, seed: int, exclude: set[int]
) -> list[int]:
    g = explicit_gradient_embeddings(proba, emb)
    n = len(g)
    available = [i not in exclude for i in range(n)]
    norms = [float(g[i] @ g[i]) if available[i] else -1.0 for i in range(n)]
    first = norms.index(max(norms))
    sq = [[float(np.sum((g[i] - g[j]) ** 2)) for j in range(n)] for i in range(n)]
    return literal_d2_seeding(sq, k, np.random.default_rng(seed), available, first)


def make(n: int, c: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n, d))
    logits = emb @ rng.normal(size=(d, c)) + rng.normal(size=(n, c))
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), emb


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 25), st.integers(2, 5), st.integers(1, 6), st.integers(0, 2**16), st.data())
def test_identical_picks_to_explicit_gradient_embeddings(
    n: int, c: int, d: int, seed: int, data: st.DataObject
) -> None:
    proba, emb = make(n, c, d, seed)
    exclude = set(data.draw(st.lists(st.integers(0, n - 1), max_size=n - 1)))
    k = data.draw(st.integers(1, n - len(exclude)))
    got = badge(proba, emb, k, rng=seed, exclude=sorted(exclude))
    assert got.tolist() == literal_badge(proba, emb, k, seed, exclude)


def test_explicit_grad_embeddings_give_the_same_batch() -> None:
    proba, emb = make(200, 4, 8, 0)
    g = explicit_gradient_embeddings(proba, emb)
    implicit = badge(proba, emb, 20, rng=3)
    explicit = badge(None, None, 20, rng=3, grad_embeddings=g)
    np.testing.assert_array_equal(implicit, explicit)
    sel = get_strategy("badge").select(
        PoolInputs(proba=proba, embeddings=emb, grad_embeddings=g), 20, rng=3
    )
    np.testing.assert_array_equal(sel.indices, implicit)


def test_first_pick_has_the_largest_gradient_norm() -> None:
    proba, emb = make(100, 3, 5, 1)
    norms = np.linalg.norm(explicit_gradient_embeddings(proba, emb), axis=1)
    sel = get_strategy("badge").select(PoolInputs(proba=proba, embeddings=emb), 5, rng=0)
    assert sel.indices[0] == int(np.argmax(norms))
    np.testing.assert_allclose(sel.scores, norms[sel.indices])


def test_a_copy_of_a_centre_has_no_weight() -> None:
    proba = np.array([[1.0, 0.0]] * 4 + [[0.5, 0.5]] * 2)  # g = 0 for the confident four
    emb = np.ones((6, 3))
    for seed in range(20):
        got = badge(proba, emb, 4, rng=seed)
        assert len(set(got.tolist())) == 4
        assert got[0] == 4 and got[1] in (0, 1, 2, 3)  # 5 duplicates 4: D^2 = 0


def test_extra_memory_stays_small() -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(20_000, 256)).astype(np.float32)
    logits = rng.normal(size=(20_000, 10)).astype(np.float32)
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    tracemalloc.start()
    try:
        badge(proba, emb, 100, rng=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20  # the explicit embeddings alone would be 20,000 x 2,560 x 8 B


def test_refusals() -> None:
    proba, emb = make(10, 3, 4, 0)
    with pytest.raises(InvalidInputError, match="rows"):
        badge(proba, emb[:9], 2)
    with pytest.raises(InvalidInputError, match="needs proba"):
        badge(None, emb, 2)
    with pytest.raises(InvalidInputError, match="sum to 1"):
        badge(proba * 2, emb, 2)


# -- honest declarations: BADGE wants explicit gradients, needs proba and embeddings ------------
def test_badge_declares_what_it_reads() -> None:
    from labelwise.strategies import get_strategy

    badge_strategy = get_strategy("badge")
    assert badge_strategy.needs == {"proba", "embeddings"}
    assert badge_strategy.wants == {"grad_embeddings"}


def test_badge_with_a_torch_model_receives_grad_embeddings_through_compute_inputs() -> None:
    pytest.importorskip("torch")
    from labelwise.models import compute_inputs
    from labelwise.models.torch_model import TorchModel
    from labelwise.models.torch_nets import mlp
    from labelwise.strategies import get_strategy

    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    X = (6.0 * np.eye(3, 4)[y] + rng.normal(size=(60, 4))).astype(np.float32)
    model = TorchModel(mlp(4, 3, hidden=8), np.arange(3), epochs=5, random_state=0).fit(X, y)
    strategy = get_strategy("badge")
    inputs = compute_inputs(model, X, strategy.needs, wants=strategy.wants)
    assert inputs.grad_embeddings is not None
    np.testing.assert_allclose(inputs.grad_embeddings, model.grad_embed(X))
    chosen = strategy.select(inputs, 5, rng=0)
    expected = badge(None, None, 5, rng=0, grad_embeddings=model.grad_embed(X))
    np.testing.assert_array_equal(chosen.indices, expected)


def test_badge_falls_back_to_proba_and_embeddings_without_grad_embed() -> None:
    from sklearn.linear_model import LogisticRegression

    from labelwise.models import SklearnModel, compute_inputs
    from labelwise.strategies import get_strategy

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    model = SklearnModel(LogisticRegression()).fit(X, y)
    strategy = get_strategy("badge")
    inputs = compute_inputs(model, X, strategy.needs, wants=strategy.wants)
    assert inputs.grad_embeddings is None
    chosen = strategy.select(inputs, 4, rng=0)
    assert chosen.indices.tolist() == badge(inputs.proba, inputs.embeddings, 4, rng=0).tolist()
