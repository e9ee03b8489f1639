"""Run one function per shard: a thread pool in this process, or Dask futures on a cluster.

Both runners call the same module-level task function with the same arguments, so a result
does not depend on where it was computed. On Dask, large shared arguments (the model, a big
exclusion array) are scattered once to every worker (``broadcast=True``) and tasks receive the
futures, not copies; each task may be retried (``retries``) and a task lost with a dying worker
is rescheduled by the scheduler, so a worker death costs time, never a result.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

#: Retries of a task that raised (Dask ``retries=``); deaths of workers are retried by Dask.
DEFAULT_RETRIES = 2


class Progress(Protocol):
    """Told once per finished shard (a progress bar's ``advance``)."""

    def __call__(self, done: int, total: int) -> None: ...


def map_shards(
    fn: Callable[..., T],
    per_shard: Sequence[tuple[Any, ...]],
    shared: Mapping[str, Any] | None = None,
    *,
    client: Any = None,
    n_threads: int | None = None,
    retries: int = DEFAULT_RETRIES,
    progress: Progress | None = None,
    label: str = "labelwise",
) -> list[T]:
    """``[fn(*args, **shared) for args in per_shard]``, in parallel, results in input order.

    Parameters
    ----------
    fn : module-level function (importable on the workers).
    per_shard : the positional arguments of each call (small: a path, a slice of ids).
    shared : keyword arguments common to every call; on Dask scattered once to all workers.
    client : a ``dask.distributed.Client``, or None for a thread pool in this process.
    n_threads : threads of the pool (default: the CPU count); ignored with a client.
    retries : Dask retries of a task that raised.
    progress : called with (shards done, shards in all) as each shard finishes.
    """
    shared = dict(shared or {})
    total = len(per_shard)
    if client is None:
        return _map_threads(fn, per_shard, shared, n_threads, progress, total)
    return _map_dask(fn, per_shard, shared, client, retries, progress, total, label)


def _map_threads(
    fn: Callable[..., T],
    per_shard: Sequence[tuple[Any, ...]],
    shared: dict[str, Any],
    n_threads: int | None,
    progress: Progress | None,
    total: int,
) -> list[T]:
    workers = max(1, min(n_threads or os.cpu_count() or 1, total or 1))
    results: list[Any] = [None] * total
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labelwise-shard") as pool:
        futures = {pool.submit(fn, *args, **shared): i for i, args in enumerate(per_shard)}
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                results[futures[future]] = future.result()
                if progress is not None:
                    progress(done, total)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return results


def _map_dask(
    fn: Callable[..., T],
    per_shard: Sequence[tuple[Any, ...]],
    shared: dict[str, Any],
    client: Any,
    retries: int,
    progress: Progress | None,
    total: int,
    label: str,
) -> list[T]:
    """Run on the cluster; a death that loses the scattered arguments re-sends them.

    Dask reschedules a task whose worker died, but data scattered to that worker cannot be
    recomputed: its dependants are cancelled ("lost data", "already forgotten"). The shards
    that were not finished are then submitted again with freshly scattered arguments, at most
    ``retries + 1`` more times; finished shards are kept.
    """
    results: dict[int, Any] = {}
    done = 0
    for attempt in range(retries + 2):
        pending = [i for i in range(total) if i not in results]
        if not pending:
            break
        try:
            for i, value in _dask_attempt(fn, per_shard, pending, shared, client, retries, label):
                results[i] = value
                done += 1
                if progress is not None:
                    progress(done, total)
        except _LostData:
            if attempt == retries + 1:
                raise
    return [results[i] for i in range(total)]


class _LostData(Exception):
    """Scattered arguments went with a dead worker; the unfinished shards must be resent."""


def _dask_attempt(
    fn: Callable[..., T],
    per_shard: Sequence[tuple[Any, ...]],
    pending: list[int],
    shared: dict[str, Any],
    client: Any,
    retries: int,
    label: str,
) -> Any:
    from distributed import as_completed as dask_completed
    from distributed.client import FutureCancelledError

    scattered = {
        name: client.scatter(value, broadcast=True, hash=False) for name, value in shared.items()
    }
    run = uuid.uuid4().hex[:8]
    futures = {
        client.submit(
            fn,
            *per_shard[i],
            **scattered,
            key=f"{label}-{run}-{i:06d}",
            retries=retries,
            pure=False,
        ): i
        for i in pending
    }
    try:
        for future in dask_completed(list(futures)):
            if future.status == "cancelled":
                raise _LostData
            try:
                value = future.result()  # raises the task's error (retries are spent) at once
            except FutureCancelledError as error:
                raise _LostData from error
            yield futures[future], value
    finally:
        client.cancel([*futures, *scattered.values()])
