"""Score a pool chunk by chunk (:func:`score_in_chunks`), run a kernel's pieces on ``n_jobs``
threads (:func:`share_pieces`, the one thread engine of the strategies) and map a kernel over
transposed row blocks (:func:`map_row_blocks`)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError

#: Pool items per chunk of :func:`score_in_chunks`.
DEFAULT_CHUNK_SIZE = 65_536

#: Bytes of one transposed block of :func:`map_row_blocks` (each thread holds two of them).
BLOCK_BYTES = 1024 * 1024
#: Below this many values (N * C) a second thread costs more than it saves.
MIN_VALUES_FOR_THREADS = 1 << 18


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
    """``fn(array)``, reading at most ``chunk_size`` items along the pool ``axis`` at once
    (``fn`` maps n pool items to n scores)."""
    n = array.shape[axis]
    if n <= chunk_size:
        return np.asarray(fn(array), dtype=np.float64)
    out = np.empty(n, dtype=np.float64)
    index: list[slice] = [slice(None)] * array.ndim
    for chunk in iter_chunks(n, chunk_size):
        index[axis] = chunk
        out[chunk] = fn(array[tuple(index)])
    return out


@dataclass(frozen=True, slots=True)
class RowBlock:
    """m rows of an (N, C) array as ``t[c, i]`` (a copy the kernel may overwrite), scratch
    ``work`` (same shape), ``vec`` (m,) and the block's scores ``out``."""

    t: NDArray[Any]
    work: NDArray[Any]
    vec: NDArray[Any]
    out: NDArray[np.float64]


#: Computes one block's scores into ``block.out``; returning False refuses the block and stops
#: the map (a kernel that validates as it reads).
BlockKernel = Callable[[RowBlock], bool | None]


def block_rows_for(n_columns: int, itemsize: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Rows per block so that one (C, rows) block takes about ``block_bytes``."""
    return max(256, block_bytes // max(1, n_columns * itemsize))


def map_row_blocks(
    kernel: BlockKernel,
    array: NDArray[np.floating],
    *,
    n_jobs: int | None = None,
    block_rows: int | None = None,
) -> NDArray[np.float64] | None:
    """Run ``kernel`` over transposed blocks of the rows of an (N, C) ``array`` (any strides).

    Each block is copied to (C, rows), so that a reduction over the classes is C vectorized
    operations. Returns the (N,) float64 scores, or None once the kernel refused a block; the
    scores do not depend on ``n_jobs`` or ``block_rows`` (default: :data:`BLOCK_BYTES`).
    """
    n, c = array.shape
    rows = block_rows or block_rows_for(c, array.itemsize)
    n_blocks = -(-n // rows)
    out = np.empty(n, dtype=np.float64)

    def worker() -> Callable[[int], bool]:
        """One thread's block function, with that thread's scratch blocks."""
        t_buf = np.empty((c, rows), dtype=array.dtype)
        w_buf = np.empty((c, rows), dtype=array.dtype)
        v_buf = np.empty(rows, dtype=array.dtype)

        def run(i: int) -> bool:
            start, stop = i * rows, min(i * rows + rows, n)
            t = t_buf[:, : stop - start]
            np.copyto(t, array[start:stop].T)
            block = RowBlock(t, w_buf[:, : stop - start], v_buf[: stop - start], out[start:stop])
            return kernel(block) is not False

        return run

    passed = share_pieces(n_blocks, threads_for(array.size, n_blocks, n_jobs), worker)
    return out if passed else None


def default_n_jobs() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def resolve_n_jobs(n_jobs: int | None) -> int:
    """``n_jobs`` as a thread count: None means :func:`default_n_jobs`; at least 1."""
    if n_jobs is None:
        return default_n_jobs()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer):
        raise InvalidInputError(f"n_jobs must be a positive int or None, got {n_jobs!r}")
    return max(1, int(n_jobs))


def threads_for(
    n_values: int, n_tasks: int, n_jobs: int | None, min_values: int = MIN_VALUES_FOR_THREADS
) -> int:
    """Threads for ``n_tasks`` pieces over ``n_values`` values: one below ``min_values``."""
    threads = resolve_n_jobs(n_jobs)
    if n_values < min_values:
        threads = 1
    return max(1, min(threads, n_tasks))


def share_pieces(
    n_pieces: int,
    threads: int,
    worker: Callable[[], Callable[[int], bool]],
    executor: ThreadPoolExecutor | None = None,
) -> bool:
    """Run pieces ``0 .. n_pieces - 1`` on ``threads`` threads, this one included.

    Each thread calls ``worker()`` once for its piece function (holding its scratch buffers) and
    takes pieces from a shared counter. A piece returning False stops every thread; the result
    says whether all passed. Errors are re-raised. ``executor``: reuse a pool of at least
    ``threads - 1`` workers.
    """
    next_piece = itertools.count()
    refused: list[bool] = []

    def work() -> None:
        run = worker()
        for i in next_piece:
            if i >= n_pieces or refused:
                return
            if not run(i):
                refused.append(True)
                return

    if threads <= 1:
        work()
    elif executor is not None:
        _work_with(executor, threads, work)
    else:
        with ThreadPoolExecutor(threads - 1) as pool:
            _work_with(pool, threads, work)
    return not refused


def _work_with(pool: ThreadPoolExecutor, threads: int, work: Callable[[], None]) -> None:
    helpers = [pool.submit(work) for _ in range(threads - 1)]
    try:
        work()
    finally:
        for helper in helpers:
            helper.result()
