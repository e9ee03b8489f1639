"""Sets of pool ids as sorted int64 arrays: 8 bytes an id, membership by binary search.

A Python set of ten million ints costs about 500 MB and cannot be sliced; a sorted array costs
80 MB, is shipped to a worker as one buffer, and the part of it that can meet one shard is the
slice between the shard's smallest and largest id (read from the Parquet footer).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError


def sorted_ids(ids: ArrayLike | None) -> NDArray[np.int64]:
    """Distinct integer ids as a sorted int64 array (empty for None)."""
    if ids is None:
        return np.empty(0, dtype=np.int64)
    arr = np.asarray(ids)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise InvalidInputError(f"ids must be a 1-D integer array, got {arr.dtype} {arr.shape}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size > 1 and not bool((arr[1:] > arr[:-1]).all()):
        arr = np.unique(arr)
    return arr


def contains(sorted_set: NDArray[np.int64], ids: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Boolean mask: which of ``ids`` are in ``sorted_set`` (binary search, O(n log m))."""
    if sorted_set.size == 0:
        return np.zeros(ids.shape, dtype=bool)
    pos = np.searchsorted(sorted_set, ids)
    np.minimum(pos, sorted_set.size - 1, out=pos)
    return np.asarray(sorted_set[pos] == ids)


def slice_for_range(
    sorted_set: NDArray[np.int64], lo: int | None, hi: int | None
) -> NDArray[np.int64]:
    """The ids of ``sorted_set`` within ``[lo, hi]`` (all of them when the range is unknown)."""
    if lo is None or hi is None:
        return sorted_set
    start = int(np.searchsorted(sorted_set, lo, side="left"))
    stop = int(np.searchsorted(sorted_set, hi, side="right"))
    return sorted_set[start:stop]
