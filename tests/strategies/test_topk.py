"""Top-k and streaming top-k: exact under ties, equal to a sort."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelwise.errors import BatchSizeError
from labelwise.strategies import StreamingTopK, random, top_k


def ref_top_k(scores: np.ndarray, k: int, exclude: set[int]) -> list[int]:
    items = [(-s, i) for i, s in enumerate(scores.tolist()) if i not in exclude]
    return [i for _, i in sorted(items)[:k]]


@settings(max_examples=300, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 40), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0])),
    st.data(),
)
def test_top_k_equals_sorting_with_ties_by_index(scores: np.ndarray, data: st.DataObject) -> None:
    exclude = data.draw(st.sets(st.integers(0, scores.size - 1), max_size=scores.size - 1))
    k = data.draw(st.integers(1, scores.size - len(exclude)))
    got = top_k(scores, k, exclude=np.array(sorted(exclude), dtype=int))
    assert got.tolist() == ref_top_k(scores, k, exclude)


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 60), elements=st.sampled_from([0.0, 0.25, 1.0, 3.0])),
    st.integers(1, 10),
    st.integers(1, 15),
)
def test_streaming_top_k_equals_top_k(scores: np.ndarray, k: int, chunk: int) -> None:
    k = min(k, scores.size)
    stream = StreamingTopK(k)
    for start in range(0, scores.size, chunk):
        stream.push(
            scores[start : start + chunk], np.arange(start, min(start + chunk, scores.size))
        )
    ids, got_scores = stream.result()
    assert ids.tolist() == top_k(scores, k).tolist()
    np.testing.assert_array_equal(got_scores, scores[ids])


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 300), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0])),
    st.integers(1, 12),
    st.integers(1, 120),
    st.integers(0, 2**32 - 1),
)
def test_streaming_top_k_breaks_ties_by_id_not_position(
    scores: np.ndarray, k: int, chunk: int, seed: int
) -> None:
    """Shuffled ids, chunks much larger than k (the partition path): a sort by (-score, id)."""
    ids = np.random.default_rng(seed).permutation(10 * scores.size)[: scores.size]
    k = min(k, scores.size)
    stream = StreamingTopK(k)
    for start in range(0, scores.size, chunk):
        stream.push(scores[start : start + chunk], ids[start : start + chunk])
    expected = [i for _, i in sorted(zip((-scores).tolist(), ids.tolist(), strict=True))[:k]]
    assert stream.result()[0].tolist() == expected


def test_streaming_top_k_puts_nan_scores_last() -> None:
    stream = StreamingTopK(3)
    stream.push(np.array([np.nan, 0.3, 0.9, np.nan, 0.1, 0.2, 0.0]), np.arange(7))
    assert stream.result()[0].tolist() == [2, 1, 5]


def test_top_k_refuses_batch_larger_than_pool() -> None:
    with pytest.raises(BatchSizeError, match="exceeds"):
        top_k(np.zeros(3), 4)


def test_random_is_uniform_and_reproducible() -> None:
    counts = np.zeros(10)
    for seed in range(2000):
        counts[random(10, 3, rng=seed)] += 1
    assert counts.min() > 0.8 * 600 and counts.max() < 1.2 * 600
    np.testing.assert_array_equal(random(100, 5, rng=3), random(100, 5, rng=3))
    assert set(random(10, 5, rng=0, exclude=np.arange(5)).tolist()) == set(range(5, 10))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(4096, 12_000),
    st.integers(1, 300),
    st.sampled_from(["continuous", "ties"]),
    st.sampled_from([0.0, 0.3, 0.99]),
    st.integers(0, 2**31),
)
def test_large_pools_take_the_block_bound_path_and_stay_exact(
    n: int, k: int, kind: str, excluded: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.choice([0.0, 0.5, 1.0, 2.0], size=n) if kind == "ties" else rng.random(n)
    exclude = rng.random(n) < excluded
    if (~exclude).sum() < k:
        return
    got = top_k(scores, k, exclude=exclude)
    order = sorted((i for i in range(n) if not exclude[i]), key=lambda i: (-scores[i], i))
    assert got.tolist() == order[:k]
