"""k-means++ seeding and k-means selection against literal references and known distributions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import BatchSizeError, InvalidInputError
from labelwise.strategies import kmeans, kmeans_plus_plus
from labelwise.strategies.clustering import REFRESH_RATIO


def literal_d2_seeding(
    sq: list[list[float]],
    k: int,
    rng: np.random.Generator,
    available: list[bool],
    first: int | None,
) -> list[int]:
    """k-means++ by rejection from stale bounds, written with loops over an explicit matrix
    ``sq[i][j]`` of squared distances; the random draws are those documented in d2_seeding."""
    n = len(sq)
    if first is None:
        cands = [i for i in range(n) if available[i]]
        first = cands[int(rng.integers(len(cands)))]
    centers = [first]
    stale = [sq[i][first] if available[i] and i != first else 0.0 for i in range(n)]
    seen = [1] * n
    rejections, refreshed_at = 0, 1
    while len(centers) < k:
        while True:
            cumulative = list(itertools.accumulate(stale))
            total = cumulative[-1]
            if not total > 0:
                rest = [i for i in range(n) if available[i] and i not in centers]
                pick = rest[int(rng.integers(len(rest)))]
                break
            u = rng.random()
            target = u * total
            i = next((j for j in range(n) if cumulative[j] > target), n - 1)
            current = min([stale[i]] + [sq[i][c] for c in centers[seen[i] :]])
            seen[i] = len(centers)
            if rng.random() * stale[i] < current:
                pick = i
                break
            stale[i] = current
            rejections += 1
            if rejections >= REFRESH_RATIO * (len(centers) - refreshed_at):
                for j in range(n):
                    stale[j] = min([stale[j]] + [sq[j][c] for c in centers])
                    seen[j] = len(centers)
                rejections, refreshed_at = 0, len(centers)
        centers.append(pick)
        stale[pick] = 0.0
    return centers


def sq_matrix(x: np.ndarray) -> list[list[float]]:
    return [[float(np.sum((a - b) ** 2)) for b in x] for a in x]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 30),
    st.integers(1, 5),
    st.integers(0, 2**16),
    st.sampled_from(["random", "largest_norm"]),
    st.data(),
)
def test_seeding_matches_literal_reference(
    n: int, d: int, seed: int, first: str, data: st.DataObject
) -> None:
    x = np.random.default_rng(seed).normal(size=(n, d))
    exclude = sorted(set(data.draw(st.lists(st.integers(0, n - 1), max_size=n - 1))))
    k = data.draw(st.integers(1, n - len(exclude)))
    available = [i not in exclude for i in range(n)]
    start = None
    if first == "largest_norm":
        norms = [float(x[i] @ x[i]) if available[i] else -1.0 for i in range(n)]
        start = norms.index(max(norms))
    rng = np.random.default_rng(seed)
    got = kmeans_plus_plus(x, k, rng, first=first, exclude=exclude)  # type: ignore[arg-type]
    ref = literal_d2_seeding(sq_matrix(x), k, np.random.default_rng(seed), available, start)
    assert got.tolist() == ref


def test_duplicates_fall_back_to_uniform_over_the_rest() -> None:
    x = np.array([[1.0, 1.0]] * 5 + [[2.0, 2.0]])
    got = kmeans_plus_plus(x, 4, rng=0)
    assert len(set(got.tolist())) == 4
    assert 5 in got.tolist()[:2]  # the one distinct point has all the D^2 weight


def test_second_centre_is_drawn_proportionally_to_squared_distance() -> None:
    x = np.array([[0.0], [1.0], [2.0], [4.0]])
    counts = np.zeros(4)
    draws = 2000
    for seed in range(draws):
        got = kmeans_plus_plus(x, 2, rng=seed, first="largest_norm")
        assert got[0] == 3
        counts[got[1]] += 1
    expected = np.array([16.0, 9.0, 4.0, 0.0]) / 29.0
    sigma = np.sqrt(expected * (1 - expected) / draws)
    assert np.all(np.abs(counts / draws - expected) <= 4 * sigma + 1e-12)


def test_third_centre_follows_the_k_means_plus_plus_law() -> None:
    """Exercises stale bounds: the third draw is proposed from distances to the first centre."""
    x = np.array([[0.0], [1.0], [3.0], [6.0], [10.0]])
    sq = (x - x.T) ** 2
    expected = np.zeros(5)
    d1 = sq[:, 4]
    for b in range(5):  # second centre b, then third
        pb = d1[b] / d1.sum()
        d2 = np.minimum(d1, sq[:, b])
        if pb > 0:
            expected += pb * d2 / d2.sum()
    draws = 2000
    counts = np.zeros(5)
    for seed in range(draws):
        counts[kmeans_plus_plus(x, 3, rng=seed, first="largest_norm")[2]] += 1
    sigma = np.sqrt(expected * (1 - expected) / draws)
    assert np.all(np.abs(counts / draws - expected) <= 4 * sigma + 1e-12)


def test_kmeans_picks_one_representative_per_blob() -> None:
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]])
    sizes = [40, 30, 20, 10]
    x = np.concatenate([c + rng.normal(size=(s, 2)) for c, s in zip(centers, sizes, strict=True)])
    blob = np.repeat(np.arange(4), sizes)
    got = kmeans(x, 4, rng=1)
    assert blob[got].tolist() == [0, 1, 2, 3]  # largest cluster first
    for i, b in zip(got, blob[got], strict=True):
        members = x[blob == b]
        nearest = np.argmin(((members - members.mean(0)) ** 2).sum(1))
        assert np.flatnonzero(blob == b)[nearest] == i


def test_kmeans_respects_exclusion_and_returns_distinct_points() -> None:
    x = np.array([[0.0]] * 6 + [[1.0]] * 6)
    got = kmeans(x, 5, rng=0, exclude=[0, 1, 2])
    assert len(set(got.tolist())) == 5
    assert not set(got.tolist()) & {0, 1, 2}


@pytest.mark.parametrize("k", [1, 3, 7])
def test_kmeans_is_deterministic_for_a_seed(k: int) -> None:
    x = np.random.default_rng(2).normal(size=(50, 3)).astype(np.float32)
    np.testing.assert_array_equal(kmeans(x, k, rng=4), kmeans(x, k, rng=4))


def test_refusals() -> None:
    with pytest.raises(BatchSizeError):
        kmeans(np.zeros((3, 2)), 4)
    with pytest.raises(InvalidInputError, match="NaN"):
        kmeans_plus_plus(np.array([[np.nan, 0.0], [0.0, 0.0]]), 1)
    with pytest.raises(InvalidInputError, match="2-dimensional"):
        kmeans_plus_plus(np.zeros(3), 1)
