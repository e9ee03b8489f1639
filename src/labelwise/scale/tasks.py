"""The work done on one shard, the same whether a thread or a Dask worker runs it.

Each task reads only the columns it needs, drops the excluded ids (a sorted int64 array), and
returns something small: a top-k, a sample, a few centres, a radius. Memory follows the shard.

Shards run in parallel (threads of a pool, or Dask worker threads), so a task itself uses one
thread: pyarrow decodes the shard on the task's thread and the block kernels of the scores run
on ``block_threads`` threads (1 unless the caller has cores to spare), instead of every task
starting its own helpers on cores that the other tasks already use.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError
from labelwise.models.inputs import compute_inputs, embed_or_features
from labelwise.scale import idsets
from labelwise.scale.kcenter import greedy_centers, min_sq_distances
from labelwise.scale.neighbors import shard_neighbors
from labelwise.scale.shards import VectorLayout, read_shard
from labelwise.strategies import PoolInputs, ScoringStrategy, StreamingTopK

IdArray = NDArray[np.int64]


def shard_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of shard ``index``: the same on every machine, independent across shards."""
    return np.random.default_rng([seed, index])


def pool_inputs(
    x: NDArray[np.float32],
    needs: Collection[str],
    layout: VectorLayout,
    model: Any,
    rng: np.random.Generator,
) -> PoolInputs:
    """What a strategy needs for these rows: from the model, or read off the vector column.

    Without a model the vector column *is* the input: probabilities (N, C) for ``proba``,
    samples stored pool axis first (N, K, C) for ``samples`` / ``committee_proba``, anything
    for ``embeddings``.
    """
    pool_needs = set(needs) - {"labeled_embeddings"}
    if model is not None:
        return compute_inputs(model, x, pool_needs, rng=rng)
    values: dict[str, Any] = {}
    for name in pool_needs:
        if name in ("embeddings", "proba"):
            values[name] = x
        elif name in ("samples", "committee_proba"):
            if len(layout.row_shape) != 2:
                raise InvalidInputError(
                    f"{name} read from the shards needs rows of shape (K, C), stored with "
                    "write_shards(samples_pool_first) where samples_pool_first is (N, K, C)"
                )
            values[name] = x.reshape(len(x), *layout.row_shape).transpose(1, 0, 2)
        else:
            raise InvalidInputError(
                f"{name} cannot be read from the shards: pass a model that computes it"
            )
    if not values:
        values["embeddings"] = np.empty((len(x), 0), dtype=np.float32)
    return PoolInputs(**values)


def _load(
    path: str, layout: VectorLayout, exclude: IdArray
) -> tuple[IdArray, NDArray[np.float32], int]:
    """The non-excluded ids and rows of a shard, and its row count."""
    ids, x = read_shard(path, layout, use_threads=False)
    n_rows = len(ids)
    drop = idsets.contains(exclude, ids)
    if drop.any():
        keep = ~drop
        ids, x = ids[keep], x[keep]
    return ids, x, n_rows


def score_task(
    path: str,
    index: int,
    exclude: IdArray,
    *,
    layout: VectorLayout,
    strategy: ScoringStrategy,
    k: int,
    model: Any,
    seed: int,
    block_threads: int = 1,
) -> tuple[IdArray, NDArray[np.float64], int, int]:
    """Top-k (score desc, id asc) of one shard: (ids, scores, rows read, rows scored).

    Only the shard's top-k travels back (16 bytes an item), never the scores of all its rows.
    """
    ids, x, n_rows = _load(path, layout, exclude)
    if len(ids) == 0:
        return ids, np.empty(0), n_rows, 0
    inputs = pool_inputs(x, strategy.needs, layout, model, shard_rng(seed, index))
    scores = strategy.score(inputs, n_threads=block_threads)
    top_ids, top_scores = shard_top_k(scores, ids, k)
    return top_ids, top_scores, n_rows, len(ids)


def shard_top_k(
    scores: NDArray[np.float64], ids: IdArray, k: int
) -> tuple[IdArray, NDArray[np.float64]]:
    """The k best rows (score desc, id asc), as :class:`StreamingTopK` orders them."""
    best = StreamingTopK(k)
    best.push(scores, ids)
    return best.result()


def gather_task(
    path: str,
    index: int,
    exclude: IdArray,
    positions: NDArray[np.intp] | None,
    wanted: IdArray | None,
    *,
    layout: VectorLayout,
) -> tuple[IdArray, NDArray[np.float32]]:
    """Rows of one shard: at ``positions`` (a subsample) or with ids in ``wanted`` (sorted).

    Excluded ids are dropped after the positions are taken.
    """
    ids, x = read_shard(path, layout, use_threads=False)
    if positions is not None:
        ids, x = ids[positions], x[positions]
    keep = ~idsets.contains(exclude, ids)
    if wanted is not None:
        keep &= idsets.contains(wanted, ids)
    return ids[keep], x[keep]


def two_round_task(
    path: str,
    index: int,
    exclude: IdArray,
    *,
    layout: VectorLayout,
    model: Any,
    labeled: NDArray[np.floating],
    k: int,
    seed: int,
) -> tuple[IdArray, NDArray[np.floating]]:
    """First round of two-round k-center: the shard's greedy centres (ids, embeddings)."""
    ids, x, _ = _load(path, layout, exclude)
    emb = _embed(x, model)
    picks, _ = greedy_centers(emb, labeled, k, shard_rng(seed, index))
    return ids[picks], np.asarray(emb[picks])


def radius_task(
    path: str,
    index: int,
    exclude: IdArray,
    *,
    layout: VectorLayout,
    model: Any,
    centers: NDArray[np.floating],
) -> tuple[float, int]:
    """Largest squared distance from a non-excluded row to its nearest centre, and rows seen."""
    ids, x, _ = _load(path, layout, exclude)
    if len(ids) == 0:
        return 0.0, 0
    return float(min_sq_distances(_embed(x, model), centers).max()), len(ids)


def neighbors_task(
    path: str,
    index: int,
    exclude: IdArray,
    *,
    layout: VectorLayout,
    model: Any,
    queries: NDArray[np.floating],
    k: int,
    knn_index: Literal["hnsw", "exact"],
    cache_graphs: bool,
) -> tuple[IdArray, NDArray[np.float64]]:
    """Each query's k nearest non-excluded rows of the shard: (L, k') ids and sq. distances.

    With ``cache_graphs`` the shard's HNSW graph is kept beside a local shard file
    (``<shard>.hnsw``) for the next rounds.
    """
    ids, x = read_shard(path, layout, use_threads=False)
    cache = f"{path}.hnsw" if cache_graphs and model is None and "://" not in path else None
    pos, dist = shard_neighbors(
        queries,
        _embed(x, model),
        k,
        knn_index,
        idsets.contains(exclude, ids),
        cache,
    )
    found = ids[np.where(pos < 0, 0, pos)] if len(ids) else np.zeros(pos.shape, dtype=np.int64)
    return np.where(pos < 0, -1, found).astype(np.int64), dist


def _embed(x: NDArray[np.float32], model: Any) -> NDArray[np.floating]:
    return x if model is None else embed_or_features(model, x)
