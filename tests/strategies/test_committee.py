"""Query-by-committee scores against literal loops and known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelwise.errors import InvalidInputError
from labelwise.strategies import (
    PoolInputs,
    bald,
    consensus_entropy,
    get_strategy,
    max_disagreement,
    vote_entropy,
)


@st.composite
def committees(draw: st.DrawFn) -> np.ndarray:
    m = draw(st.integers(1, 6))
    n = draw(st.integers(1, 8))
    c = draw(st.integers(2, 5))
    raw = draw(arrays(np.float64, (m, n, c), elements=st.floats(0.0, 1.0, allow_subnormal=False)))
    raw[..., 0] += 1e-9
    return raw / raw.sum(axis=-1, keepdims=True)


def ref_entropy(row: list[float]) -> float:
    return -sum(p * math.log(p) for p in row if p > 0)


def ref_vote_entropy(votes: list[list[int]]) -> list[float]:
    m, n_items = len(votes), len(votes[0])
    out = []
    for n in range(n_items):
        counts: dict[int, int] = {}
        for member in range(m):
            counts[votes[member][n]] = counts.get(votes[member][n], 0) + 1
        out.append(-sum(v / m * math.log(v / m) for v in counts.values()))
    return out


def ref_consensus(proba: np.ndarray, n: int) -> list[float]:
    m, _, c = proba.shape
    return [sum(proba[j, n, cls] for j in range(m)) / m for cls in range(c)]


def ref_max_disagreement(proba: np.ndarray) -> list[float]:
    m, n_items, c = proba.shape
    out = []
    for n in range(n_items):
        consensus = ref_consensus(proba, n)
        kl = 0.0
        for j in range(m):
            for cls in range(c):
                p = proba[j, n, cls]
                if p > 0:
                    kl += p * math.log(p / consensus[cls])
        out.append(kl / m)
    return out


@settings(max_examples=150, deadline=None)
@given(committees())
def test_scores_match_literal_reference(proba: np.ndarray) -> None:
    votes = proba.argmax(axis=2)
    n = proba.shape[1]
    np.testing.assert_allclose(vote_entropy(proba), ref_vote_entropy(votes.tolist()), atol=1e-12)
    np.testing.assert_allclose(vote_entropy(votes), vote_entropy(proba))
    np.testing.assert_allclose(
        consensus_entropy(proba),
        [ref_entropy(ref_consensus(proba, i)) for i in range(n)],
        atol=1e-12,
    )
    np.testing.assert_allclose(
        max_disagreement(proba), np.maximum(ref_max_disagreement(proba), 0), atol=1e-12
    )


def test_max_disagreement_is_the_committee_bald() -> None:
    proba = np.random.default_rng(0).dirichlet(np.ones(4), size=(5, 30))
    np.testing.assert_allclose(max_disagreement(proba), bald(proba))


def test_unanimous_committee_has_zero_vote_entropy() -> None:
    votes = np.array([[2, 0, 1], [2, 0, 1], [2, 0, 1]])
    np.testing.assert_array_equal(vote_entropy(votes), [0.0, 0.0, 0.0])
    proba = np.tile(np.array([[0.7, 0.2, 0.1]]), (4, 5, 1))
    np.testing.assert_array_equal(vote_entropy(proba), np.zeros(5))
    assert max_disagreement(proba) == pytest.approx(np.zeros(5), abs=1e-12)


def test_vote_entropy_known_values() -> None:
    # 4 members: split 2:2 -> log 2; 1:1:1:1 -> log 4; 3:1 -> the binary entropy of 1/4.
    votes = np.array([[0, 0, 0], [0, 1, 0], [1, 2, 0], [1, 3, 1]])
    h31 = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    np.testing.assert_allclose(vote_entropy(votes, n_classes=4), [math.log(2), math.log(4), h31])


def test_integral_float_votes_are_accepted_and_fractions_refused() -> None:
    np.testing.assert_allclose(vote_entropy(np.array([[0.0, 1.0], [1.0, 1.0]])), [math.log(2), 0])
    with pytest.raises(InvalidInputError, match="integer"):
        vote_entropy(np.array([[0.5, 1.0], [1.0, 1.0]]))
    with pytest.raises(InvalidInputError, match="NaN"):
        vote_entropy(np.array([[np.nan, 1.0], [1.0, 1.0]]))


def test_votes_outside_the_classes_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"\[0, 2\)"):
        vote_entropy(np.array([[0, 2], [1, 1]]), n_classes=2)
    with pytest.raises(InvalidInputError, match=r"\[0, 3\)"):
        vote_entropy(np.array([[0, -1], [1, 1]]), n_classes=3)
    with pytest.raises(InvalidInputError, match="2-dimensional"):
        vote_entropy(np.array([0, 1]))
    with pytest.raises(InvalidInputError, match="at least one member"):
        vote_entropy(np.zeros((0, 3), dtype=int))


@pytest.mark.parametrize("fn", [vote_entropy, consensus_entropy, max_disagreement])
def test_bad_committee_probabilities_are_refused(fn) -> None:  # type: ignore[no-untyped-def]
    proba = np.full((3, 2, 2), 0.5)
    with pytest.raises(InvalidInputError, match="committee_proba"):
        fn(proba * 1.5)
    bad = proba.copy()
    bad[1, 1, 0] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        fn(bad)


@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("vote_entropy", vote_entropy),
        ("consensus_entropy", consensus_entropy),
        ("max_disagreement", max_disagreement),
    ],
)
def test_strategies_pick_the_top_scores(name: str, fn) -> None:  # type: ignore[no-untyped-def]
    proba = np.random.default_rng(1).dirichlet(np.full(3, 0.5), size=(5, 40))
    strategy = get_strategy(name)
    assert strategy.needs == {"committee_proba"}
    selection = strategy.select(PoolInputs(committee_proba=proba), 6, rng=0)
    scores = fn(proba)
    order = np.lexsort((np.arange(40), -scores))
    np.testing.assert_array_equal(selection.indices, order[:6])
