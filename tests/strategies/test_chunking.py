"""Chunked and blocked passes over a pool: the result never depends on the chunk, the block or
the number of threads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.strategies import PoolInputs, entropy, get_strategy
from labelwise.strategies.chunking import (
    RowBlock,
    block_rows_for,
    iter_chunks,
    map_row_blocks,
    score_in_chunks,
)


def row_sum_and_max(b: RowBlock) -> None:
    """A kernel with a plain reference: sum + 10 * max of each row."""
    np.add.reduce(b.t, axis=0, out=b.vec)
    b.out[:] = b.vec
    np.maximum.reduce(b.t, axis=0, out=b.vec)
    b.out[:] += 10 * b.vec


def reference(x: np.ndarray) -> list[float]:
    return [float(sum(row) + 10 * max(row)) for row in x.tolist()]


def test_iter_chunks_covers_the_range() -> None:
    assert [(s.start, s.stop) for s in iter_chunks(7, 3)] == [(0, 3), (3, 6), (6, 7)]
    assert list(iter_chunks(0, 3)) == []
    with pytest.raises(ValueError, match="at least 1"):
        list(iter_chunks(5, 0))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300), st.integers(1, 9), st.integers(1, 64), st.sampled_from([1, 2, 3]))
def test_blocks_give_the_row_by_row_result(n: int, c: int, rows: int, threads: int) -> None:
    x = np.random.default_rng(n * 31 + c).random((n, c))
    got = map_row_blocks(row_sum_and_max, x, block_rows=rows, n_jobs=threads)
    assert got is not None and got.dtype == np.float64
    np.testing.assert_allclose(got, reference(x), rtol=1e-12)


def test_two_threads_share_the_blocks_of_a_large_array() -> None:
    x = np.random.default_rng(0).random((300_000, 3)).astype(np.float32)
    one = map_row_blocks(row_sum_and_max, x, n_jobs=1, block_rows=1000)
    two = map_row_blocks(row_sum_and_max, x, n_jobs=2, block_rows=1000)
    assert one is not None and two is not None
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one[:50], reference(x[:50]), rtol=1e-6)


@pytest.mark.parametrize("layout", ["fortran", "strided", "reversed"])
def test_any_strides_are_read(layout: str) -> None:
    base = np.random.default_rng(2).random((2_000, 8))
    x = {
        "fortran": np.asfortranarray(base),
        "strided": base[::3, ::2],
        "reversed": base[::-1],
    }[layout]
    got = map_row_blocks(row_sum_and_max, x, block_rows=300)
    assert got is not None
    np.testing.assert_allclose(got, reference(x), rtol=1e-12)


@pytest.mark.parametrize("layout", ["fortran", "one_row"])
def test_a_kernel_may_overwrite_its_block_but_never_the_input(layout: str) -> None:
    base = np.random.default_rng(7).random((1 if layout == "one_row" else 600, 5))
    x = np.asfortranarray(base) if layout == "fortran" else base
    before = x.copy()

    def overwrite(b: RowBlock) -> None:
        b.t[:] = -1.0
        b.out[:] = b.t[0]

    got = map_row_blocks(overwrite, x, block_rows=256)
    assert got is not None and (got == -1.0).all()
    np.testing.assert_array_equal(x, before)


def test_blocks_are_sized_for_the_cache() -> None:
    assert block_rows_for(10, 4, 256 * 1024) == 6553
    assert block_rows_for(100_000, 8) == 256  # never fewer rows than this


def test_score_in_chunks_equals_one_call() -> None:
    x = np.random.default_rng(3).random((1_000, 4))
    calls: list[int] = []

    def row_sums(a: np.ndarray) -> np.ndarray:
        calls.append(len(a))
        return a.sum(axis=1)

    np.testing.assert_allclose(score_in_chunks(row_sums, x, chunk_size=300), x.sum(axis=1))
    assert calls == [300, 300, 300, 100]
    samples = np.random.default_rng(4).random((3, 500, 2))
    got = score_in_chunks(lambda a: a.sum(axis=(0, 2)), samples, axis=1, chunk_size=128)
    np.testing.assert_allclose(got, samples.sum(axis=(0, 2)))


def test_a_streaming_strategy_hands_its_function_the_whole_array_once() -> None:
    from labelwise.strategies.base import ScoringStrategy

    calls: list[int] = []

    def row_sums(a: np.ndarray) -> np.ndarray:
        calls.append(len(a))
        return a.sum(axis=1)

    class Chunked(ScoringStrategy):
        name, input_name, score_fn = "chunked_sums", "proba", staticmethod(row_sums)

    class Streaming(Chunked):
        streams = True

    x = np.full((1_000, 2), 0.5)
    np.testing.assert_array_equal(Chunked(chunk_size=300).score(PoolInputs(proba=x)), 1.0)
    assert calls == [300, 300, 300, 100]
    calls.clear()
    np.testing.assert_array_equal(Streaming(chunk_size=300).score(PoolInputs(proba=x)), 1.0)
    assert calls == [1_000]


def test_strategy_scores_are_those_of_the_function_without_a_copy_of_the_input() -> None:
    p = np.random.default_rng(5).dirichlet(np.ones(6), size=70_000).astype(np.float32)
    strategy = get_strategy("entropy", chunk_size=1_000)
    scores = strategy.score(PoolInputs(proba=p))
    np.testing.assert_array_equal(scores, entropy(p))
