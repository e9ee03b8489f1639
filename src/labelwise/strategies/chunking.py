"""Score a pool chunk by chunk, so a pool larger than memory (a memmap) can be scored."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import NDArray

#: Rows per chunk: large enough to amortise Python overhead, small enough to stay in cache.
DEFAULT_CHUNK_SIZE = 65_536


def iter_chunks(n: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[slice]:
    """Yield consecutive slices covering ``range(n)``."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def score_in_chunks(
    fn: Callable[[NDArray[np.floating]], NDArray[np.float64]],
    array: NDArray[np.floating],
    axis: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> NDArray[np.float64]:
    """Apply a per-item scoring function over ``array`` in chunks along the pool ``axis``.

    ``fn`` maps an array whose pool axis has length n to n scores. The result equals
    ``fn(array)`` while reading at most ``chunk_size`` pool items at once.
    """
    n = array.shape[axis]
    if n <= chunk_size:
        return np.asarray(fn(array), dtype=np.float64)
    out = np.empty(n, dtype=np.float64)
    index: list[slice] = [slice(None)] * array.ndim
    for chunk in iter_chunks(n, chunk_size):
        index[axis] = chunk
        out[chunk] = fn(array[tuple(index)])
    return out
