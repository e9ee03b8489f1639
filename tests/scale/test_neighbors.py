"""Nearest neighbours per shard, merged: the exact fallback equals a loop; HNSW recalls well."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.scale.neighbors import exact_knn, merge_neighbors, shard_neighbors


def slow_knn(q: np.ndarray, x: np.ndarray, k: int) -> list[list[int]]:
    out = []
    for a in q:
        d = [(float(np.sum((a - b) ** 2)), i) for i, b in enumerate(x.astype(np.float64))]
        out.append([i for _, i in sorted(d)[:k]])
    return out


def test_exact_knn_equals_a_loop_including_ties() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(300, 2)).astype(np.float32)  # many exact ties
    q = rng.integers(0, 3, size=(5, 2)).astype(np.float32)
    pos, _ = exact_knn(q, x, 7)
    assert pos.tolist() == slow_knn(q, x, 7)


def test_merging_per_shard_answers_gives_the_global_neighbours() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 3))
    ids = rng.permutation(5000)[:500]
    q = rng.normal(size=(4, 3))
    parts = []
    for rows in np.array_split(np.arange(500), 6):
        pos, dist = exact_knn(q, x[rows], 10)
        parts.append((ids[rows][pos], dist))
    merged, _ = merge_neighbors(parts, 10)
    expected = [[int(ids[i]) for i in row] for row in slow_knn(q, x, 10)]
    assert merged.tolist() == expected


def test_excluded_rows_are_never_neighbours() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 3))
    excluded = np.zeros(200, dtype=bool)
    excluded[::2] = True
    pos, _ = shard_neighbors(x[:3], x, 20, "exact", excluded)
    assert not excluded[pos].any()


def test_hnsw_finds_most_true_neighbours_and_respects_exclusion(tmp_path) -> None:
    pytest.importorskip("faiss")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 8)).astype(np.float32)
    q = rng.normal(size=(10, 8)).astype(np.float32)
    excluded = np.zeros(3000, dtype=bool)
    excluded[:1000] = True
    cache = str(tmp_path / "g.hnsw")
    pos, _ = shard_neighbors(q, x, 20, "hnsw", excluded, cache)
    truth, _ = shard_neighbors(q, x, 20, "exact", excluded)
    recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(pos, truth, strict=True)])
    assert recall >= 0.9 and not excluded[pos].any()
    again, _ = shard_neighbors(q, x, 20, "hnsw", excluded, cache)  # from the saved graph
    assert (tmp_path / "g.hnsw").exists() and np.array_equal(again, pos)
