"""Score a pool chunk by chunk, so a pool larger than memory (a memmap) can be scored.

Two ways through a pool live here:

- :func:`score_in_chunks` applies any per-item scoring function to slices of the pool;
- :func:`map_row_blocks` is the engine of the fused per-row kernels (the uncertainty scores):
  it copies cache-sized blocks of rows, transposed to (C, rows) so that every reduction over the
  classes runs along the first axis as C vectorized operations, and lets two threads share the
  blocks (numpy releases the GIL inside its loops). Extra memory is a few blocks per thread.
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

#: Rows per chunk: large enough to amortise Python overhead, small enough to stay in cache.
DEFAULT_CHUNK_SIZE = 65_536

#: Bytes of one transposed block of :func:`map_row_blocks` (each thread holds two of them).
BLOCK_BYTES = 1024 * 1024
#: Below this many values (N * C) a second thread costs more than it saves.
MIN_VALUES_FOR_THREADS = 1 << 18
#: Threads sharing the blocks of one call: the cores this process may run on, at most two.
N_THREADS = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)

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
    n_threads: int | None = None,
    block_rows: int | None = None,
) -> NDArray[np.float64] | None:
    """Run ``kernel`` over transposed blocks of the rows of a 2-D ``array``; return the scores.

    Parameters
    ----------
    kernel : writes the scores of one :class:`RowBlock` into its ``out``.
    array : (N, C) floating array, any strides (a memmap is read block by block).
    check : optional test of each block before the kernel sees it; ``check(t, sums)`` gets the
        transposed block and an (m,) scratch vector of ``check_dtype`` (default: the array's).
    n_threads : threads sharing the blocks (default :data:`N_THREADS`; one for small arrays).
    block_rows : rows per block (default: about :data:`BLOCK_BYTES` per block).

    Returns
    -------
    (N,) float64 scores, or None as soon as ``check`` refused a block (the other blocks are
    then left unscored). Every score depends only on its own row, so the result is the same
    for any number of threads and any block size.
    """
    out = np.empty(array.shape[0], dtype=np.float64)
    ok = _run_blocks(kernel, out, array, check, check_dtype, n_threads, block_rows)
    return out if ok else None


def all_row_blocks(
    check: BlockCheck,
    array: NDArray[np.floating],
    *,
    check_dtype: np.dtype[Any] | None = None,
    n_threads: int | None = None,
    block_rows: int | None = None,
) -> bool:
    """Whether ``check(t, sums)`` holds for every transposed block of rows of ``array``.

    The same blocks and threads as :func:`map_row_blocks`, without scores; stops at the first
    refused block.
    """
    return _run_blocks(None, None, array, check, check_dtype, n_threads, block_rows)


def _run_blocks(
    kernel: BlockKernel | None,
    out: NDArray[np.float64] | None,
    array: NDArray[np.floating],
    check: BlockCheck | None,
    check_dtype: np.dtype[Any] | None,
    n_threads: int | None,
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

    return share_pieces(n_blocks, threads_for(array.size, n_blocks, n_threads), worker)


def threads_for(n_values: int, n_tasks: int, n_threads: int | None) -> int:
    """Threads for a call over ``n_values`` values in ``n_tasks`` pieces: ``n_threads`` (default
    :data:`N_THREADS`), one below :data:`MIN_VALUES_FOR_THREADS`, never more than the pieces."""
    threads = N_THREADS if n_threads is None else max(1, int(n_threads))
    if n_values < MIN_VALUES_FOR_THREADS:
        threads = 1
    return max(1, min(threads, n_tasks))


def share_pieces(n_pieces: int, threads: int, worker: Callable[[], Callable[[int], bool]]) -> bool:
    """Run pieces ``0 .. n_pieces - 1`` on ``threads`` threads at once, this one included.

    Each thread calls ``worker()`` once for its piece function (which may hold that thread's
    scratch buffers) and takes pieces from a shared counter (atomic under the GIL), so a thread
    slowed down by a busy machine simply takes fewer. A piece function returning False stops
    every thread before its next piece; the result says whether all pieces passed. The threads'
    errors are re-raised.
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
    else:
        with ThreadPoolExecutor(threads - 1) as pool:
            helpers = [pool.submit(work) for _ in range(threads - 1)]
            work()
            for helper in helpers:
                helper.result()
    return not refused
