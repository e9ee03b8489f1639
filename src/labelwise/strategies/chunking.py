"""Score a pool chunk by chunk, and the one way to run a kernel on several threads.

- :func:`score_in_chunks` applies any per-item scoring function to slices of the pool, so a pool
  larger than memory (a memmap) can be scored;
- :func:`share_pieces` runs the pieces of a kernel on ``n_jobs`` threads (numpy and BLAS release
  the GIL inside their loops); every strategy that runs in parallel goes through it, and
  :func:`resolve_n_jobs` reads its ``n_jobs`` argument (default: the cores this process may use);
- :func:`map_row_blocks` copies cache-sized blocks of rows of an (N, C) array, transposed to
  (C, rows), so that every reduction over the classes runs along the first axis as C vectorized
  operations (the uncertainty scores). Extra memory is a few blocks per thread.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError

#: Rows per chunk: large enough to amortise Python overhead, small enough to stay in cache.
DEFAULT_CHUNK_SIZE = 65_536

#: Bytes of one transposed block of :func:`map_row_blocks` (each thread holds two of them).
BLOCK_BYTES = 1024 * 1024
#: Below this many values (N * C) a second thread costs more than it saves.
MIN_VALUES_FOR_THREADS = 1 << 18

#: Marks a scoring function that already streams over its input block by block (see
#: :func:`streams_blocks`); :func:`score_in_chunks` then hands it the whole array at once.
STREAMS_BLOCKS_ATTR = "__labelwise_streams_blocks__"

F = TypeVar("F", bound=Callable[..., Any])


def iter_chunks(n: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[slice]:
    """Yield consecutive slices covering ``range(n)``."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def streams_blocks(fn: F) -> F:
    """Declare that ``fn`` reads its pool a cache-sized block at a time, in O(block) memory.

    :func:`score_in_chunks` calls such a function once on the whole array instead of once per
    chunk: no per-chunk result to copy, one thread pool per call instead of one per chunk.
    """
    setattr(fn, STREAMS_BLOCKS_ATTR, True)
    return fn


def score_in_chunks(
    fn: Callable[[NDArray[np.floating]], NDArray[np.float64]],
    array: NDArray[np.floating],
    axis: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> NDArray[np.float64]:
    """Apply a per-item scoring function over ``array`` in chunks along the pool ``axis``.

    ``fn`` maps an array whose pool axis has length n to n scores. The result equals
    ``fn(array)`` while reading at most ``chunk_size`` pool items at once. A function marked
    with :func:`streams_blocks` (the uncertainty scores) already reads its input block by block,
    in blocks of at most :data:`BLOCK_BYTES`: it is called once, on the whole array.
    """
    n = array.shape[axis]
    if n <= chunk_size or (axis == 0 and getattr(fn, STREAMS_BLOCKS_ATTR, False)):
        return np.asarray(fn(array), dtype=np.float64)
    out = np.empty(n, dtype=np.float64)
    index: list[slice] = [slice(None)] * array.ndim
    for chunk in iter_chunks(n, chunk_size):
        index[axis] = chunk
        out[chunk] = fn(array[tuple(index)])
    return out


@dataclass(frozen=True, slots=True)
class RowBlock:
    """One block of m rows of an (N, C) array, transposed, with scratch space of its thread.

    ``t[c, i]`` is column c of row i of the block (a copy: a kernel may overwrite it); ``work``
    has the same shape and dtype, ``vec`` and ``vec2`` are (m,) vectors of that dtype, and the
    kernel writes the block's m scores into ``out``.
    """

    t: NDArray[Any]
    work: NDArray[Any]
    vec: NDArray[Any]
    vec2: NDArray[Any]
    out: NDArray[np.float64]


#: Computes one block's scores into ``block.out``.
BlockKernel = Callable[[RowBlock], None]
#: Tests one block's values (``t`` and the scratch ``vec``); False stops the whole map.
BlockCheck = Callable[[NDArray[Any], NDArray[Any]], bool]


def block_rows_for(n_columns: int, itemsize: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Rows per block so that one (C, rows) block takes about ``block_bytes``."""
    return max(256, block_bytes // max(1, n_columns * itemsize))


def map_row_blocks(
    kernel: BlockKernel,
    array: NDArray[np.floating],
    *,
    check: BlockCheck | None = None,
    check_dtype: np.dtype[Any] | None = None,
    n_jobs: int | None = None,
    block_rows: int | None = None,
) -> NDArray[np.float64] | None:
    """Run ``kernel`` over transposed blocks of the rows of a 2-D ``array``; return the scores.

    Parameters
    ----------
    kernel : writes the scores of one :class:`RowBlock` into its ``out``.
    array : (N, C) floating array, any strides (a memmap is read block by block).
    check : optional test of each block before the kernel sees it; ``check(t, sums)`` gets the
        transposed block and an (m,) scratch vector of ``check_dtype`` (default: the array's).
    n_jobs : threads sharing the blocks (default :func:`default_n_jobs`; one for small arrays).
    block_rows : rows per block (default: about :data:`BLOCK_BYTES` per block).

    Returns
    -------
    (N,) float64 scores, or None as soon as ``check`` refused a block (the other blocks are
    then left unscored). Every score depends only on its own row, so the result is the same
    for any number of threads and any block size.
    """
    out = np.empty(array.shape[0], dtype=np.float64)
    ok = _run_blocks(kernel, out, array, check, check_dtype, n_jobs, block_rows)
    return out if ok else None


def all_row_blocks(
    check: BlockCheck,
    array: NDArray[np.floating],
    *,
    check_dtype: np.dtype[Any] | None = None,
    n_jobs: int | None = None,
    block_rows: int | None = None,
) -> bool:
    """Whether ``check(t, sums)`` holds for every transposed block of rows of ``array``.

    The same blocks and threads as :func:`map_row_blocks`, without scores; stops at the first
    refused block.
    """
    return _run_blocks(None, None, array, check, check_dtype, n_jobs, block_rows)


def _run_blocks(
    kernel: BlockKernel | None,
    out: NDArray[np.float64] | None,
    array: NDArray[np.floating],
    check: BlockCheck | None,
    check_dtype: np.dtype[Any] | None,
    n_jobs: int | None,
    block_rows: int | None,
) -> bool:
    n, c = array.shape
    rows = block_rows or block_rows_for(c, array.itemsize)
    n_blocks = -(-n // rows)

    def worker() -> Callable[[int], bool]:
        """One thread's block function, with that thread's scratch blocks."""
        t_buf = np.empty((c, rows), dtype=array.dtype)
        s_buf = np.empty(rows, dtype=check_dtype or array.dtype)
        if kernel is not None:
            w_buf = np.empty((c, rows), dtype=array.dtype)
            v_buf = np.empty((2, rows), dtype=array.dtype)

        def run(i: int) -> bool:
            start = i * rows
            stop = min(start + rows, n)
            m = stop - start
            t = t_buf[:, :m]
            with np.errstate(all="ignore"):  # garbage input may overflow; the check reports it
                np.copyto(t, array[start:stop].T)
                if check is not None and not check(t, s_buf[:m]):
                    return False
                if kernel is not None and out is not None:
                    kernel(RowBlock(t, w_buf[:, :m], v_buf[0, :m], v_buf[1, :m], out[start:stop]))
            return True

        return run

    return share_pieces(n_blocks, threads_for(array.size, n_blocks, n_jobs), worker)


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
    """Threads for a call over ``n_values`` values in ``n_tasks`` pieces: ``n_jobs`` (see
    :func:`resolve_n_jobs`), one below ``min_values``, never more than the pieces."""
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
    """Run pieces ``0 .. n_pieces - 1`` on ``threads`` threads at once, this one included.

    Each thread calls ``worker()`` once for its piece function (which may hold that thread's
    scratch buffers) and takes pieces from a shared counter (atomic under the GIL), so a thread
    slowed down by a busy machine simply takes fewer. A piece function returning False stops
    every thread before its next piece; the result says whether all pieces passed. The threads'
    errors are re-raised. A caller that shares pieces many times (a greedy loop) passes its
    own ``executor`` of at least ``threads - 1`` workers instead of starting one per call.
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
