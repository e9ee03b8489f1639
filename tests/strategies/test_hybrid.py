"""Hybrid strategies against literal references (loops) and known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.cluster.hierarchy
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import InvalidInputError
from labelwise.strategies import (
    PoolInputs,
    class_balanced,
    cluster_margin,
    coreset,
    entropy,
    get_strategy,
    information_density,
    margin,
    top_k,
    uncertainty_coreset,
)


def make(n: int, c: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n, d))
    logits = emb @ rng.normal(size=(d, c)) + rng.normal(size=(n, c))
    p = np.exp(logits - logits.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True), emb


def literal_round_robin(groups: list[list[tuple[float, int]]], k: int) -> list[int]:
    """Visit groups in order, each visit taking its best (score desc, index asc) remaining."""
    queues = [sorted(g, key=lambda t: (-t[0], t[1])) for g in groups]
    out: list[int] = []
    rank = 0
    while len(out) < k:
        for q in queues:
            if rank < len(q) and len(out) < k:
                out.append(q[rank][1])
        rank += 1
    return out


# --- uncertainty_coreset -------------------------------------------------------------------


def test_uncertainty_coreset_is_coreset_on_the_shortlist() -> None:
    proba, emb = make(120, 4, 3, 0)
    lab = np.random.default_rng(1).normal(size=(5, 3))
    shortlist = np.sort(top_k(margin(proba), 30))
    expected = shortlist[coreset(emb[shortlist], lab, 10)]
    got = uncertainty_coreset(proba, emb, lab, 10, prefilter=3)
    np.testing.assert_array_equal(got, expected)


def test_uncertainty_coreset_with_prefilter_one_is_top_k() -> None:
    proba, emb = make(80, 3, 2, 2)
    got = uncertainty_coreset(proba, emb, emb[:3], 8, prefilter=1, score="entropy")
    assert sorted(got.tolist()) == sorted(top_k(entropy(proba), 8).tolist())


def test_uncertainty_coreset_respects_exclusion() -> None:
    proba, emb = make(50, 3, 2, 3)
    got = uncertainty_coreset(proba, emb, None, 10, exclude=np.arange(0, 50, 2), rng=0)
    assert all(i % 2 == 1 for i in got.tolist())


# --- class_balanced ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(2, 5), st.integers(0, 2**16), st.data())
def test_class_balanced_matches_literal_round_robin(
    n: int, c: int, seed: int, data: st.DataObject
) -> None:
    proba, _ = make(n, c, 2, seed)
    exclude = set(data.draw(st.lists(st.integers(0, n - 1), max_size=n - 1)))
    k = data.draw(st.integers(1, n - len(exclude)))
    scores = margin(proba)
    pool = [i for i in range(n) if i not in exclude]
    predicted = {i: int(np.argmax(proba[i])) for i in pool}
    counts = {cls: sum(1 for i in pool if predicted[i] == cls) for cls in range(c)}
    order = sorted((cls for cls in range(c) if counts[cls]), key=lambda cls: (counts[cls], cls))
    groups = [[(scores[i], i) for i in pool if predicted[i] == cls] for cls in order]
    got = class_balanced(proba, k, exclude=sorted(exclude))
    assert got.tolist() == literal_round_robin(groups, k)


def test_class_balanced_takes_the_rare_class_first() -> None:
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.55, 0.45], [0.3, 0.7], [0.8, 0.2]])
    assert class_balanced(proba, 3).tolist() == [3, 2, 1]


# --- information_density -------------------------------------------------------------------


def literal_density(proba: np.ndarray, emb: np.ndarray, beta: float) -> list[float]:
    n = len(emb)
    out = []
    for i in range(n):
        sims = []
        for u in range(n):
            a, b = np.linalg.norm(emb[i]), np.linalg.norm(emb[u])
            sims.append(0.0 if a == 0 or b == 0 else float(emb[i] @ emb[u]) / (a * b))
        h = -sum(p * math.log(p) for p in proba[i] if p > 0)
        out.append(h * max(sum(sims) / n, 0.0) ** beta)
    return out


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
def test_information_density_matches_pairwise_cosines(beta: float) -> None:
    proba, emb = make(40, 3, 4, 5)
    emb[3] = 0.0
    emb += np.array([1.0, 0.5, 0.0, 0.0])  # a shared direction: mean similarity > 0
    emb[7] = 0.0
    expected = literal_density(proba, emb, beta)
    got = information_density(proba, emb, 6, beta=beta)
    assert got.tolist() == np.argsort(-np.array(expected), kind="stable")[:6].tolist()
    sel = get_strategy("information_density", beta=beta).select(
        PoolInputs(proba=proba, embeddings=emb), 6
    )
    np.testing.assert_allclose(sel.scores, np.array(expected)[sel.indices], rtol=1e-9)


def test_information_density_with_beta_zero_is_entropy() -> None:
    proba, emb = make(60, 4, 3, 6)
    emb += 5.0
    np.testing.assert_array_equal(
        information_density(proba, emb, 7, beta=0.0), top_k(entropy(proba), 7)
    )


def test_information_density_refuses_negative_beta() -> None:
    proba, emb = make(5, 2, 2, 0)
    with pytest.raises(InvalidInputError, match="beta"):
        information_density(proba, emb, 1, beta=-1.0)


# --- cluster_margin ------------------------------------------------------------------------


def literal_cluster_margin(
    proba: np.ndarray, emb: np.ndarray, k: int, factor: int, n_clusters: int
) -> list[int]:
    scores = margin(proba)
    m = min(factor * k, len(proba))
    shortlist = sorted(np.argsort(-scores, kind="stable")[:m].tolist())
    tree = scipy.cluster.hierarchy.linkage(emb[shortlist], method="average")
    labels = scipy.cluster.hierarchy.fcluster(tree, t=min(n_clusters, m), criterion="maxclust")
    clusters: dict[int, list[int]] = {}
    for pos, lab in enumerate(labels):
        clusters.setdefault(int(lab), []).append(shortlist[pos])
    order = sorted(clusters.values(), key=lambda members: (len(members), min(members)))
    return literal_round_robin([[(scores[i], i) for i in g] for g in order], k)


@pytest.mark.parametrize(("k", "factor", "n_clusters"), [(5, 4, None), (6, 3, 2), (3, 10, 3)])
def test_cluster_margin_matches_literal_reference(
    k: int, factor: int, n_clusters: int | None
) -> None:
    proba, emb = make(60, 3, 2, 7)
    got = cluster_margin(proba, emb, k, margin_factor=factor, n_clusters=n_clusters)
    expected = literal_cluster_margin(proba, emb, k, factor, n_clusters or k)
    assert got.tolist() == expected


def test_cluster_margin_alternates_between_separated_groups() -> None:
    emb = np.array([[0.0], [0.1], [0.2], [10.0], [10.1]])
    proba = np.array([[0.5, 0.5], [0.52, 0.48], [0.6, 0.4], [0.51, 0.49], [0.7, 0.3]])
    # smallest cluster {3, 4} first, its most uncertain item 3; then {0, 1, 2} -> 0; then 4
    got = cluster_margin(proba, emb, 3, margin_factor=2, n_clusters=2)
    assert got.tolist() == [3, 0, 4]


def test_strategy_parameters_are_checked_early() -> None:
    with pytest.raises(InvalidInputError, match="margin_factor"):
        get_strategy("cluster_margin", margin_factor=0)
    with pytest.raises(InvalidInputError, match="unknown uncertainty score"):
        get_strategy("class_balanced", score="nope")
    with pytest.raises(InvalidInputError, match="prefilter"):
        get_strategy("uncertainty_coreset", prefilter=0.5)
