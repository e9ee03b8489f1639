"""k-center greedy against the textbook loop: identical picks, ties to the lower index."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import BatchSizeError, InvalidInputError
from labelwise.strategies import PoolInputs, coreset, get_strategy
from labelwise.strategies.coreset import k_center_greedy


def textbook_k_center(
    x: np.ndarray, labeled: np.ndarray, k: int, exclude: set[int], seed: int
) -> list[int]:
    """Sener & Savarese 2018, Alg. 1, literally: full float64 distances at every step."""
    centers = [np.asarray(c, dtype=np.float64) for c in labeled]
    picks: list[int] = []
    available = [i for i in range(len(x)) if i not in exclude]
    if not centers:
        first = available[int(np.random.default_rng(seed).integers(len(available)))]
        picks.append(first)
        centers.append(np.asarray(x[first], dtype=np.float64))
    while len(picks) < k:
        best, best_i = -1.0, -1
        for i in available:
            if i in picks:
                continue
            d = min(float(np.sum((np.asarray(x[i], dtype=np.float64) - c) ** 2)) for c in centers)
            if d > best:  # strict: ties keep the lower index
                best, best_i = d, i
        picks.append(best_i)
        centers.append(np.asarray(x[best_i], dtype=np.float64))
    return picks


@st.composite
def pools(draw: st.DrawFn, integer: bool) -> tuple[np.ndarray, np.ndarray, set[int], int]:
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 4))
    n_lab = draw(st.integers(0, 4))
    # small integers: many exact ties, every distance exact in float32 and float64
    values = st.integers(-3, 3) if integer else st.floats(-10, 10, allow_nan=False, width=32)
    flat = draw(st.lists(values, min_size=(n + n_lab) * d, max_size=(n + n_lab) * d))
    data = np.asarray(flat, dtype=np.float64).reshape(n + n_lab, d)
    exclude = set(draw(st.lists(st.integers(0, n - 1), max_size=n - 1)))
    k = draw(st.integers(1, n - len(exclude)))
    return data[:n], data[n:], exclude, k


@settings(max_examples=80, deadline=None)
@given(pools(integer=True), st.integers(0, 2**16), st.sampled_from([1, 2, 1024]))
def test_matches_textbook_with_ties(
    case: tuple[np.ndarray, np.ndarray, set[int], int], seed: int, n_candidates: int
) -> None:
    x, lab, exclude, k = case
    mask = np.zeros(len(x), dtype=bool)
    mask[list(exclude)] = True
    got, _ = k_center_greedy(x, lab, k, np.random.default_rng(seed), mask, n_candidates)
    assert got.tolist() == textbook_k_center(x, lab, k, exclude, seed)


@settings(max_examples=60, deadline=None)
@given(pools(integer=False), st.integers(0, 2**16), st.sampled_from([1, 3, 1024]))
def test_matches_textbook_on_float32_data(
    case: tuple[np.ndarray, np.ndarray, set[int], int], seed: int, n_candidates: int
) -> None:
    x, lab, exclude, k = case
    x32, lab32 = x.astype(np.float32), lab.astype(np.float32)
    mask = np.zeros(len(x), dtype=bool)
    mask[list(exclude)] = True
    got, _ = k_center_greedy(x32, lab32, k, np.random.default_rng(seed), mask, n_candidates)
    assert got.tolist() == textbook_k_center(x32, lab32, k, exclude, seed)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_distance_far_below_the_norms_still_breaks_the_tie(dtype: type) -> None:
    """Found by hypothesis: (0, 1) lies 1.1e-33 from the labeled (1.1e-33, 1), the zeros lie
    on the labeled origin; ``|x|^2 + |c|^2 - 2 x.c`` gives 0 for all of them, the textbook
    distance does not."""
    x = np.zeros((10, 2), dtype=dtype)
    x[9] = (0.0, 1.0)
    lab = np.array([[1.12923589e-33, 1.0], [0.0, 0.0]], dtype=dtype)
    got, dist = k_center_greedy(x, lab, 1, np.random.default_rng(0), np.zeros(10, bool), 1)
    assert got.tolist() == textbook_k_center(x, lab, 1, set(), 0) == [9]
    assert dist[0] > 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_far_from_origin_with_near_ties(dtype: type) -> None:
    """Data at 1e4 with spreads of 1e-2: float32 distances alone could not tell these apart."""
    rng = np.random.default_rng(3)
    x = (1e4 + rng.normal(scale=1e-2, size=(300, 6))).astype(dtype)
    lab = (1e4 + rng.normal(scale=1e-2, size=(5, 6))).astype(dtype)
    got = coreset(x, lab, 12)
    assert got.tolist() == textbook_k_center(x, lab, 12, set(), 0)


def test_duplicated_points_tie_to_lower_index() -> None:
    x = np.array([[0.0, 0.0], [3.0, 4.0], [3.0, 4.0], [-3.0, -4.0], [1.0, 1.0]])
    got = coreset(x, [[0.0, 0.0]], 3)
    assert got.tolist() == [1, 3, 4]  # 1 and 2 (identical) and 3 all at distance 5


def test_first_pick_is_farthest_from_labeled_set() -> None:
    assert coreset([[0.0], [1.0], [5.0]], [[0.0]], 2).tolist() == [2, 1]
    sel = get_strategy("coreset").select(
        PoolInputs(embeddings=np.array([[0.0], [1.0], [5.0]]), labeled_embeddings=[[0.0]]), 2
    )
    np.testing.assert_allclose(sel.scores, [5.0, 1.0])


def test_without_labeled_points_the_first_pick_is_drawn_then_farthest() -> None:
    x = np.array([[0.0], [10.0], [4.0], [9.0]])
    got = coreset(x, None, 3, rng=np.random.default_rng(5))
    first = int(np.random.default_rng(5).integers(4))
    assert got[0] == first
    assert got.tolist() == textbook_k_center(x, np.empty((0, 1)), 3, set(), 5)
    assert coreset(x, np.empty((0, 1)), 3, rng=5).tolist() == got.tolist()


def test_excluded_points_are_neither_picked_nor_centres() -> None:
    x = np.array([[0.0], [10.0], [9.0], [5.0]])
    got = coreset(x, [[0.0]], 2, exclude=[1])
    assert got.tolist() == [2, 3]


def test_refuses_mismatched_features_and_nan() -> None:
    with pytest.raises(InvalidInputError, match="features"):
        coreset(np.zeros((4, 3)), np.zeros((2, 2)), 1)
    bad = np.zeros((4, 3))
    bad[1, 1] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        coreset(bad, np.zeros((2, 3)), 1)
    with pytest.raises(InvalidInputError, match="NaN"):
        coreset(np.zeros((4, 3)), bad, 1)
    with pytest.raises(BatchSizeError):
        coreset(np.zeros((4, 3)), None, 5)


def test_medium_pool_matches_vectorised_textbook() -> None:
    """Crowded maxima in 16-d Gaussian blobs, many candidate refreshes (n_candidates=8)."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 16)) * 3
    x = (centers[rng.integers(5, size=3000)] + rng.normal(size=(3000, 16))).astype(np.float32)
    lab = x[:40].copy()
    got, _ = k_center_greedy(x, lab, 150, rng, np.zeros(3000, bool), n_candidates=8)
    x64 = x.astype(np.float64)
    min_d2 = ((x64[:, None, :] - lab.astype(np.float64)[None]) ** 2).sum(-1).min(1)
    expected = []
    for _ in range(150):
        i = int(np.argmax(min_d2))
        expected.append(i)
        min_d2 = np.minimum(min_d2, ((x64 - x64[i]) ** 2).sum(1))
        min_d2[i] = -np.inf
    assert got.tolist() == expected
