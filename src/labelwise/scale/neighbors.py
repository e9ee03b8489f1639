"""Nearest pool neighbours of the labeled set, shard by shard: the candidate pool of SEALS.

SEALS (Coleman, Chou, Katz-Samuels, Culatana, Bailis, Berg, Nowak, Sumbaly, Zaharia & Yalniz 2022,
"Similarity Search for Efficient Active Learning and Search of Rare Concepts", AAAI) scores only
the union of the k nearest unlabeled neighbours of the labeled points, found with an approximate
nearest-neighbour index, instead of the whole pool.

Each shard answers the labeled points' k nearest neighbours among its own rows; the global k
nearest of a labeled point are the k best of the shards' answers (:func:`merge_neighbors`), so
with the exact index the candidates do not depend on how the pool is sharded. Two indexes:

* ``"hnsw"``: faiss's HNSW graph (Malkov & Yashunin 2018), approximate, built per shard;
  needs ``faiss-cpu`` (the ``scale`` extra);
* ``"exact"``: the exact-kNN fallback, brute force in chunked numpy (float64), no extra package.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError
from labelwise.scale.kcenter import BLOCK_ELEMENTS
from labelwise.strategies.chunking import iter_chunks

KnnIndex = Literal["auto", "hnsw", "exact"]
#: HNSW graph degree and search breadth (faiss's M and efSearch).
HNSW_M = 32
HNSW_EF_SEARCH = 128


def resolve_index(index: KnnIndex) -> Literal["hnsw", "exact"]:
    """``"auto"`` is HNSW when faiss is installed, else the exact fallback."""
    if index == "auto":
        try:
            import faiss  # noqa: F401
        except ImportError:
            return "exact"
        return "hnsw"
    if index not in ("hnsw", "exact"):
        raise InvalidInputError(f"knn_index must be 'auto', 'hnsw' or 'exact', got {index!r}")
    return index


def shard_neighbors(
    queries: NDArray[np.floating],
    x: NDArray[np.floating],
    k: int,
    index: Literal["hnsw", "exact"],
    excluded: NDArray[np.bool_] | None = None,
    cache_path: str | None = None,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The ``k`` nearest non-excluded rows of ``x`` to each query: (L, k') positions, sq. dist.

    ``k' = min(k, rows available)``, nearest first. The HNSW graph is built over every row of
    the shard (excluded rows are filtered at search time), so with ``cache_path`` it is saved
    there once and reused in later rounds, as SEALS keeps its index.
    """
    mask = np.zeros(x.shape[0], dtype=bool) if excluded is None else excluded
    k = min(k, int(x.shape[0] - mask.sum()))
    if k <= 0 or queries.shape[0] == 0:
        return np.empty((queries.shape[0], 0), dtype=np.intp), np.empty((queries.shape[0], 0))
    if index == "hnsw":
        return _hnsw(queries, x, k, mask, cache_path)
    keep = np.flatnonzero(~mask)
    pos, dist = exact_knn(queries, x[keep] if mask.any() else x, k)
    return (keep[pos] if mask.any() else pos), dist


def exact_knn(
    queries: NDArray[np.floating], x: NDArray[np.floating], k: int
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Exact kNN fallback by brute force in row blocks; ties go to the lower position."""
    q = np.asarray(queries, dtype=np.float64)
    qq = np.einsum("ij,ij->i", q, q)
    best_d = np.full((q.shape[0], 0), np.inf)
    best_i = np.empty((q.shape[0], 0), dtype=np.intp)
    block = max(k, BLOCK_ELEMENTS // max(q.shape[0], x.shape[1], 1))
    for rows in iter_chunks(x.shape[0], block):
        chunk = np.asarray(x[rows], dtype=np.float64)
        d2 = qq[:, None] - 2.0 * (q @ chunk.T) + np.einsum("ij,ij->i", chunk, chunk)[None, :]
        pos = np.broadcast_to(np.arange(rows.start, rows.stop), d2.shape)
        d_all = np.concatenate([best_d, np.maximum(d2, 0.0)], axis=1)
        i_all = np.concatenate([best_i, pos], axis=1)
        order = np.lexsort((i_all, d_all), axis=-1)[:, :k]
        best_d = np.take_along_axis(d_all, order, axis=1)
        best_i = np.take_along_axis(i_all, order, axis=1)
    return best_i, best_d


def _hnsw(
    queries: NDArray[np.floating],
    x: NDArray[np.floating],
    k: int,
    excluded: NDArray[np.bool_],
    cache_path: str | None,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    try:
        faiss: Any = importlib.import_module("faiss")
    except ImportError:
        raise InvalidInputError(
            "knn_index='hnsw' needs faiss-cpu: pip install 'labelwise[scale]', or use 'exact'"
        ) from None
    graph = _load_graph(faiss, cache_path, x.shape)
    if graph is None:
        graph = faiss.IndexHNSWFlat(x.shape[1], HNSW_M)
        graph.add(np.ascontiguousarray(x, dtype=np.float32))
        _save_graph(faiss, graph, cache_path)
    params = faiss.SearchParametersHNSW()
    params.efSearch = max(HNSW_EF_SEARCH, 2 * k)
    if excluded.any():
        params.sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(np.flatnonzero(excluded)))
    dist, pos = graph.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)
    found = np.where(pos < 0, np.inf, dist).astype(np.float64)
    return pos.astype(np.intp), found


def _load_graph(faiss: Any, cache_path: str | None, shape: tuple[int, ...]) -> Any:
    """A cached HNSW graph of this shard, if one was saved and matches its shape."""
    if cache_path is None or not os.path.exists(cache_path):
        return None
    try:
        graph = faiss.read_index(cache_path)
    except RuntimeError:
        return None
    return graph if (graph.ntotal, graph.d) == tuple(shape) else None


def _save_graph(faiss: Any, graph: Any, cache_path: str | None) -> None:
    if cache_path is None:
        return
    tmp = f"{cache_path}.{os.getpid()}.tmp"
    try:
        faiss.write_index(graph, tmp)
        os.replace(tmp, cache_path)
    except (OSError, RuntimeError):  # a read-only pool: the graph is simply rebuilt next time
        with contextlib.suppress(OSError):
            os.remove(tmp)


def merge_neighbors(
    parts: list[tuple[NDArray[np.int64], NDArray[np.float64]]], k: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The k nearest per query over the shards' answers ((L, k_s) ids, squared distances).

    Ties go to the lower id; slots a shard could not fill (distance +inf) are dropped.
    """
    ids = np.concatenate([p[0] for p in parts], axis=1)
    dist = np.concatenate([p[1] for p in parts], axis=1)
    order = np.lexsort((ids, dist), axis=-1)[:, :k]
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(dist, order, axis=1)
