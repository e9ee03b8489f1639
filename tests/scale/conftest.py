"""Pools of Parquet shards shared by the scale tests: small, with planted ties across shards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelwise.scale import write_shards

N_POOL = 200_000
N_CLASSES = 5
ROWS_PER_SHARD = 10_000


def planted_proba(n: int, seed: int) -> np.ndarray:
    """Dirichlet probabilities where 300 rows are exactly uniform and 300 are an exact tie pair.

    The uniform rows all have the maximal entropy / margin / ratio / least confidence, so a
    batch of 100 must break ties among 300 equal scores, spread over every shard.
    """
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(N_CLASSES, 0.5), size=n).astype(np.float32)
    rows = rng.choice(n, size=600, replace=False)
    p[rows[:300]] = 1.0 / N_CLASSES
    p[rows[300:]] = np.array([0.4, 0.4, 0.1, 0.05, 0.05], dtype=np.float32)
    return p


@pytest.fixture(scope="session")
def proba_pool(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """(folder, ids, proba): 200k items in 20 shards, ids shuffled so ties cross shards."""
    folder = tmp_path_factory.mktemp("proba_pool")
    rng = np.random.default_rng(1)
    ids = rng.permutation(3 * N_POOL)[:N_POOL].astype(np.int64)
    proba = planted_proba(N_POOL, 2)
    write_shards(proba, ids, folder, rows_per_shard=ROWS_PER_SHARD)
    return folder, ids, proba


@pytest.fixture(scope="session")
def embedding_pool(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """(folder, ids, embeddings): 20k x 8 Gaussian-mixture embeddings in 8 shards."""
    folder = tmp_path_factory.mktemp("embedding_pool")
    rng = np.random.default_rng(3)
    centres = rng.normal(scale=4.0, size=(12, 8))
    x = (centres[rng.integers(12, size=20_000)] + rng.normal(size=(20_000, 8))).astype(np.float32)
    ids = np.arange(20_000, dtype=np.int64) * 3 + 7
    write_shards(x, ids, folder, rows_per_shard=2_500)
    return folder, ids, x
