"""``select_from_shards``: one round of acquisition over a pool of Parquet shards.

Scoring strategies (entropy, margin, BALD...) stream: each shard is scored and cut to its own
top-k, and the shards' top-ks are merged into the global top-k (score descending, ties to the
lower id). The result is the same in one process and on any Dask cluster, and equals
``top_k`` over the whole pool at once. Diversity strategies are sequential over the pool, so at
scale they run on a part of it, each method reporting the covering radius it reaches over the
*full* pool:

* ``"exact"``: the strategy on every non-excluded row, gathered in this process (memory grows
  with the pool; the default up to ``SUBSAMPLE_ABOVE`` rows);
* ``"subsample"``: the strategy on a uniform random subsample of ``sample`` rows;
* ``"two_round"``: distributed greedy k-center (Malkomes et al. 2015), core-set only;
* ``"neighbors"``: the strategy on the labeled set's nearest neighbours only (SEALS, Coleman et
  al. 2022).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import BatchSizeError, InvalidInputError
from labelwise.models.inputs import embed_or_features
from labelwise.scale import idsets, tasks
from labelwise.scale.execution import DEFAULT_RETRIES, map_shards
from labelwise.scale.kcenter import greedy_centers, min_sq_distances
from labelwise.scale.neighbors import KnnIndex, merge_neighbors, resolve_index
from labelwise.scale.shards import (
    VECTOR_COLUMN,
    ShardInfo,
    VectorLayout,
    inspect_shards,
    resolve_shards,
)
from labelwise.strategies import ScoringStrategy, Strategy, get_strategy
from labelwise.strategies.coreset import Coreset
from labelwise.validation import check_batch_size

Method = Literal["exact", "subsample", "two_round", "neighbors"]
METHODS: tuple[Method, ...] = ("exact", "subsample", "two_round", "neighbors")
#: Above this many rows, diversity strategies default to ``"subsample"``.
SUBSAMPLE_ABOVE = 1_000_000
#: Rows of the subsample when ``sample`` is not given.
DEFAULT_SAMPLE = 200_000
#: Nearest neighbours per labeled point for ``"neighbors"`` (SEALS used 100).
DEFAULT_NEIGHBORS = 100

StageProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ScaleSelection:
    """The ids chosen from a sharded pool, their scores, and how well the method did.

    Attributes
    ----------
    ids : (batch_size,) chosen pool ids, best (or first picked) first.
    scores : (batch_size,) the strategy's score of each (distance when picked, for k-center).
    method : the method that ran.
    n_pool : rows over all shards; n_shards : shards read.
    n_considered : rows the strategy looked at (the pool less exclusions, the subsample, the
        candidates...).
    covering_radius : for strategies over embeddings, ``max_x min_c |x - c|`` over the full pool
        (less exclusions) with ``c`` over the labeled set and the batch; else None.
    sample_radius : the same radius over the subsample only (``"subsample"``); else None.
    knn_index : the neighbour index used by ``"neighbors"`` (``"hnsw"`` or ``"exact"``).
    """

    ids: NDArray[np.int64]
    scores: NDArray[np.float64]
    method: Method
    n_pool: int
    n_shards: int
    n_considered: int
    covering_radius: float | None = None
    sample_radius: float | None = None
    knn_index: str | None = None

    def __len__(self) -> int:
        return int(self.ids.size)


@dataclass(frozen=True)
class _Plan:
    """Everything the passes share: shards, layout, exclusions, executor settings."""

    infos: list[ShardInfo]
    layout: VectorLayout
    exclude: NDArray[np.int64]
    model: Any
    client: Any
    n_threads: int | None
    retries: int
    progress: StageProgress | None

    @property
    def n_pool(self) -> int:
        return sum(info.n_rows for info in self.infos)

    @property
    def block_threads(self) -> int:
        """Threads of one shard task's score kernels: the cores the shard threads leave free.

        On Dask each worker thread runs a task, so 1; in this process, 1 unless there are
        fewer shards (or ``n_threads``) than cores.
        """
        if self.client is not None:
            return 1
        cores = os.cpu_count() or 1
        shard_threads = max(1, min(self.n_threads or cores, len(self.infos)))
        return max(1, cores // shard_threads)

    def run(
        self,
        stage: str,
        fn: Callable[..., Any],
        shared: dict[str, Any],
        extra: Sequence[tuple[Any, ...]] | None = None,
        exclude: NDArray[np.int64] | None = None,
    ) -> list[Any]:
        """Map ``fn`` over the shards with each shard's slice of the exclusion array."""
        excl = self.exclude if exclude is None else exclude
        per_shard = [
            (info.path, i, idsets.slice_for_range(excl, info.id_min, info.id_max))
            + (() if extra is None else extra[i])
            for i, info in enumerate(self.infos)
        ]
        report = self.progress

        def advance(done: int, total: int) -> None:
            if report is not None:
                report(stage, done, total)

        return map_shards(
            fn,
            per_shard,
            shared,
            client=self.client,
            n_threads=self.n_threads,
            retries=self.retries,
            progress=advance,
            label=f"labelwise-{stage}",
        )


def select_from_shards(
    shards: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    strategy: str | Strategy,
    batch_size: int,
    model: Any = None,
    client: Any = None,
    exclude_ids: ArrayLike | None = None,
    method: Method | None = None,
    sample: int | None = None,
    seed: int = 0,
    *,
    labeled_ids: ArrayLike | None = None,
    column: str = VECTOR_COLUMN,
    n_neighbors: int = DEFAULT_NEIGHBORS,
    knn_index: KnnIndex = "auto",
    cache_graphs: bool = True,
    n_threads: int | None = None,
    retries: int = DEFAULT_RETRIES,
    progress: StageProgress | None = None,
) -> ScaleSelection:
    """Choose ``batch_size`` pool ids from Parquet shards, in one process or on Dask.

    Parameters
    ----------
    shards : a folder, a glob, a list of paths, or fsspec URLs of Parquet shards (``id`` plus a
        ``column`` of fixed-size float lists, or numeric feature columns).
    strategy : a registered strategy name or a :class:`~labelwise.strategies.Strategy`.
    batch_size : number of ids to choose.
    model : fitted model adapter (``predict_proba``, ``embed``...) applied to the shards' vectors;
        None: the vectors are the strategy's input (stored probabilities, samples, embeddings).
    client : ``dask.distributed.Client``; None streams the shards through a thread pool here.
    exclude_ids : ids never to choose (queued, skipped); any integer array, kept sorted int64.
    method : ``"exact"``, ``"subsample"``, ``"two_round"`` or ``"neighbors"`` (module
        docstring). Default: exact for scoring strategies, and for others up to
        ``SUBSAMPLE_ABOVE`` rows, subsample above.
    sample : subsample size for ``"subsample"`` (default ``DEFAULT_SAMPLE``).
    seed : seed of every random draw (each shard draws from its own stream).
    labeled_ids : ids of the labeled set: never chosen, and their vectors are the labeled
        embeddings of core-set and the queries of ``"neighbors"``.
    n_neighbors, knn_index : neighbours per labeled point and the index for ``"neighbors"``
        (``"auto"``: faiss HNSW when installed, else the exact numpy fallback).
    cache_graphs : keep each local shard's HNSW graph beside it (``<shard>.hnsw``) so later
        rounds only search; building it is the cost of the first round.
    n_threads : threads without a client (default: CPU count).
    retries : times Dask retries a shard task that raised.
    progress : called as ``progress(stage, shards_done, shards_total)``.

    Raises
    ------
    ShardError : a shard unreadable or of another schema, named, before any work starts.
    """
    paths = resolve_shards(shards)
    infos, layout = inspect_shards(paths, column)
    chosen = get_strategy(strategy) if isinstance(strategy, str) else strategy
    check_batch_size(batch_size, max(batch_size, 1))
    labeled = idsets.sorted_ids(labeled_ids)
    exclude = np.union1d(idsets.sorted_ids(exclude_ids), labeled).astype(np.int64)
    plan = _Plan(infos, layout, exclude, model, client, n_threads, retries, progress)
    how = _choose_method(chosen, method, plan.n_pool)
    rng = np.random.default_rng(seed)
    needs_labeled = "labeled_embeddings" in chosen.needs or how == "neighbors"
    lab_emb = _labeled_embeddings(plan, labeled) if needs_labeled else None
    if how == "exact" and isinstance(chosen, ScoringStrategy):
        return _stream_scores(plan, chosen, int(batch_size), seed)
    if how == "two_round":
        ids, scores, picked, n_seen = _two_round(plan, chosen, int(batch_size), lab_emb, seed)
        return _with_radius(plan, chosen, how, ids, scores, n_seen, lab_emb, picked)
    sample_radius: float | None = None
    used_index: str | None = None
    if how == "neighbors":
        assert lab_emb is not None
        used_index = resolve_index(knn_index)
        wanted = _neighbor_candidates(plan, lab_emb, n_neighbors, used_index, cache_graphs)
        ids_g, x_g = _gather(plan, wanted=wanted)
    elif how == "subsample":
        ids_g, x_g = _gather(plan, positions=_sample_positions(plan, sample, rng))
    else:
        ids_g, x_g = _gather(plan)
    inputs = tasks.pool_inputs(x_g, chosen.needs, layout, model, rng)
    if lab_emb is not None and "labeled_embeddings" in chosen.needs:
        inputs = type(inputs)(**{**vars(inputs), "labeled_embeddings": lab_emb})
    try:
        picked_sel = chosen.select(inputs, int(batch_size), rng)
    except BatchSizeError as exc:
        raise BatchSizeError(f"{exc} (method {how!r} considered {len(ids_g)} rows)") from None
    ids, scores = ids_g[picked_sel.indices], picked_sel.scores
    if "embeddings" not in chosen.needs:
        return ScaleSelection(
            ids, scores, how, plan.n_pool, len(infos), len(ids_g), knn_index=used_index
        )
    emb_g = _embed(x_g, model)
    picked = np.asarray(emb_g[picked_sel.indices])
    if how == "subsample":
        centers = _centers(lab_emb, picked)
        sample_radius = float(np.sqrt(min_sq_distances(emb_g, centers).max(initial=0.0)))
    result = _with_radius(plan, chosen, how, ids, scores, len(ids_g), lab_emb, picked)
    return _replace(result, sample_radius=sample_radius, knn_index=used_index)


def _choose_method(strategy: Strategy, method: Method | None, n_pool: int) -> Method:
    if method is None:
        scoring = isinstance(strategy, ScoringStrategy)
        return "exact" if scoring or n_pool <= SUBSAMPLE_ABOVE else "subsample"
    if method not in METHODS:
        raise InvalidInputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "two_round" and not isinstance(strategy, Coreset):
        raise InvalidInputError(
            f"method 'two_round' is distributed k-center: it needs strategy 'coreset', "
            f"not {strategy.name!r}"
        )
    return method


def _stream_scores(plan: _Plan, strategy: ScoringStrategy, k: int, seed: int) -> ScaleSelection:
    shared = {"layout": plan.layout, "strategy": strategy, "k": k, "model": plan.model}
    shared |= {"seed": seed, "block_threads": plan.block_threads}
    parts = plan.run("score", tasks.score_task, shared)
    n_scored = sum(part[3] for part in parts)
    check_batch_size(k, n_scored)
    ids, scores = tasks.shard_top_k(
        np.concatenate([part[1] for part in parts]), np.concatenate([part[0] for part in parts]), k
    )
    return ScaleSelection(ids, scores, "exact", plan.n_pool, len(plan.infos), n_scored)


def _gather(
    plan: _Plan,
    positions: list[NDArray[np.intp]] | None = None,
    wanted: NDArray[np.int64] | None = None,
    exclude: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Rows of the whole pool, of a subsample (positions per shard) or with wanted ids."""
    extra = [
        (
            None if positions is None else positions[i],
            None if wanted is None else idsets.slice_for_range(wanted, info.id_min, info.id_max),
        )
        for i, info in enumerate(plan.infos)
    ]
    parts = plan.run("gather", tasks.gather_task, {"layout": plan.layout}, extra, exclude)
    ids = np.concatenate([p[0] for p in parts])
    x = np.concatenate([p[1] for p in parts]) if parts else np.empty((0, plan.layout.width))
    return ids, x.astype(np.float32, copy=False)


def _labeled_embeddings(plan: _Plan, labeled: NDArray[np.int64]) -> NDArray[np.floating]:
    """The labeled set's vectors read from the shards (through the model's ``embed``)."""
    if labeled.size == 0:
        return np.empty((0, _embedding_width(plan)), dtype=np.float32)
    empty = np.empty(0, dtype=np.int64)
    ids, x = _gather(plan, wanted=labeled, exclude=empty)
    if ids.size != labeled.size:
        missing = np.setdiff1d(labeled, ids)
        raise InvalidInputError(
            f"{missing.size} labeled id(s) are in no shard (first: {missing[:5].tolist()})"
        )
    return _embed(x[np.argsort(ids, kind="stable")], plan.model)


def _embedding_width(plan: _Plan) -> int:
    if plan.model is None:
        return plan.layout.width
    probe = np.zeros((1, plan.layout.width), dtype=np.float32)
    return int(_embed(probe, plan.model).shape[1])


def _sample_positions(
    plan: _Plan, sample: int | None, rng: np.random.Generator
) -> list[NDArray[np.intp]]:
    """A uniform sample of ``sample`` row positions without replacement, split by shard."""
    size = DEFAULT_SAMPLE if sample is None else int(sample)
    if size < 1:
        raise InvalidInputError(f"sample must be at least 1, got {size}")
    rows = np.array([info.n_rows for info in plan.infos], dtype=np.int64)
    counts = rng.multivariate_hypergeometric(rows, min(size, int(rows.sum())))
    return [
        np.sort(rng.choice(int(n), size=int(c), replace=False)).astype(np.intp)
        for n, c in zip(rows, counts, strict=True)
    ]


def _neighbor_candidates(
    plan: _Plan, queries: NDArray[np.floating], k: int, index: str, cache_graphs: bool
) -> NDArray[np.int64]:
    if queries.shape[0] == 0:
        raise InvalidInputError("method 'neighbors' needs a labeled set: pass labeled_ids")
    if k < 1:
        raise InvalidInputError(f"n_neighbors must be at least 1, got {k}")
    shared = {
        "layout": plan.layout,
        "model": plan.model,
        "queries": queries,
        "k": k,
        "knn_index": index,
        "cache_graphs": cache_graphs,
    }
    parts = plan.run("neighbors", tasks.neighbors_task, shared)
    ids, dist = merge_neighbors(parts, k)
    return np.unique(ids[np.isfinite(dist) & (ids >= 0)]).astype(np.int64)


def _two_round(
    plan: _Plan,
    strategy: Strategy,
    k: int,
    lab_emb: NDArray[np.floating] | None,
    seed: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.floating], int]:
    labeled = np.empty((0, 0)) if lab_emb is None else lab_emb
    shared = {"layout": plan.layout, "model": plan.model, "labeled": labeled, "k": k}
    parts = plan.run("two-round", tasks.two_round_task, {**shared, "seed": seed})
    union_ids = np.concatenate([p[0] for p in parts])
    union = np.concatenate([p[1] for p in parts])
    check_batch_size(k, union_ids.size)
    order = np.argsort(union_ids, kind="stable")  # the union in id order: sharding-independent
    union_ids, union = union_ids[order], union[order]
    picks, dists = greedy_centers(union, labeled, k, np.random.default_rng([seed, 1]))
    return union_ids[picks], dists, np.asarray(union[picks]), int(union_ids.size)


def _with_radius(
    plan: _Plan,
    strategy: Strategy,
    how: Method,
    ids: NDArray[np.int64],
    scores: NDArray[np.float64],
    n_considered: int,
    lab_emb: NDArray[np.floating] | None,
    picked: NDArray[np.floating],
) -> ScaleSelection:
    """The selection with its covering radius over the full pool (one streaming pass)."""
    centers = _centers(lab_emb, picked)
    shared = {"layout": plan.layout, "model": plan.model, "centers": centers}
    parts = plan.run("radius", tasks.radius_task, shared)
    radius = float(np.sqrt(max((p[0] for p in parts), default=0.0)))
    return ScaleSelection(
        ids.astype(np.int64),
        np.asarray(scores, dtype=np.float64),
        how,
        plan.n_pool,
        len(plan.infos),
        n_considered,
        covering_radius=radius,
    )


def _centers(
    lab_emb: NDArray[np.floating] | None, picked: NDArray[np.floating]
) -> NDArray[np.floating]:
    if lab_emb is None or lab_emb.shape[0] == 0:
        return np.asarray(picked)
    return np.concatenate([np.asarray(lab_emb, dtype=np.float64), picked], axis=0)


def _embed(x: NDArray[np.float32], model: Any) -> NDArray[np.floating]:
    return x if model is None else embed_or_features(model, x)


def _replace(result: ScaleSelection, **changes: Any) -> ScaleSelection:
    from dataclasses import replace

    return replace(result, **changes)
