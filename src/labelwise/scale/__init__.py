"""Acquisition over pools of 10M+ items: Parquet shards, streamed here or mapped on Dask.

``write_shards`` turns a pool (or a model's embeddings, chunk by chunk) into Parquet shards;
``select_from_shards`` chooses a batch from them, in one process with memory that follows the
shard, or with Dask futures on any ``dask.distributed`` cluster, with the same result.
"""

from labelwise.scale.idsets import sorted_ids
from labelwise.scale.kcenter import min_sq_distances
from labelwise.scale.neighbors import exact_knn
from labelwise.scale.select import (
    DEFAULT_SAMPLE,
    METHODS,
    SUBSAMPLE_ABOVE,
    ScaleSelection,
    select_from_shards,
)
from labelwise.scale.shards import (
    ShardError,
    ShardInfo,
    inspect_shards,
    read_shard,
    resolve_shards,
    write_shards,
)

__all__ = [
    "DEFAULT_SAMPLE",
    "METHODS",
    "SUBSAMPLE_ABOVE",
    "ScaleSelection",
    "ShardError",
    "ShardInfo",
    "exact_knn",
    "inspect_shards",
    "min_sq_distances",
    "read_shard",
    "resolve_shards",
    "select_from_shards",
    "sorted_ids",
    "write_shards",
]
