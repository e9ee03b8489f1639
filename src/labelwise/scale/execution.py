"""Run one function per shard: a thread pool in this process, or Dask futures on a cluster.

Both runners call the same module-level task function with the same arguments, so a result
does not depend on where it was computed. On Dask, shared arguments other than scalars (the
model, the strategy, the shard layout) are scattered once per round to every worker, in one call
(``broadcast=True``), and tasks receive the futures, not copies; consecutive shards are grouped
into a few tasks per worker thread, so that Dask's own cost per task stays small next to the
work. Each task may be retried (``retries``) and a task lost with a dying worker is rescheduled
by the scheduler, so a worker death costs time, never a result.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

#: Retries of a task that raised (Dask ``retries=``); deaths of workers are retried by Dask.
DEFAULT_RETRIES = 2
#: Dask tasks per worker thread in a round; each task runs a group of consecutive shards.
TASKS_PER_THREAD = 4


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
    shared : keyword arguments common to every call; on Dask scattered once to all workers
        (scalars travel inline).
    client : a ``dask.distributed.Client``, or None for a thread pool in this process.
    n_threads : threads of the pool (default: the CPU count); ignored with a client. With more
        than one, BLAS runs on one thread meanwhile (threadpoolctl).
    retries : Dask retries of a task that raised.
    progress : called with (shards done, shards in all) as each shard finishes (on Dask, as
        the results of a task's group of shards arrive).
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
    with (
        _one_blas_thread() if workers > 1 else contextlib.nullcontext(),
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labelwise-shard") as pool,
    ):
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


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Hold BLAS to one thread while shard threads run (as Dask workers do).

    The shards are the parallelism: a model's matrix products on two BLAS threads inside each
    of two shard threads only compete for the same cores (about 20% more CPU for margin
    through a logistic regression). The limit is process-wide for its duration. (OpenMP's
    thread count is per calling thread, so this cannot limit it for the shard threads.)
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


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
        except _LostData as lost:
            if attempt == retries + 1:
                raise RuntimeError(
                    f"workers died {attempt + 1} times in this round, each time losing the "
                    f"arguments sent to them; {len(results)} of {total} shards finished"
                ) from lost
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
    """Submit the pending shards as a few tasks in one message; yield (index, result).

    A shard of 100k rows is 10-100 ms of work, about the cost Dask itself puts on every task
    (scheduling, messages, a result fetch), so consecutive shards are grouped into
    ``TASKS_PER_THREAD`` tasks per worker thread: few enough to make that cost small, enough
    for the workers to share the round evenly. The tasks go to the scheduler in one graph
    update (``client.map``), and the results of the tasks finished since the last look are
    fetched together (``client.gather``).
    """
    from distributed import as_completed as dask_completed
    from distributed.client import FutureCancelledError

    scattered = _send_shared(client, shared)
    run = uuid.uuid4().hex[:8]
    groups = _groups(pending, _worker_threads(client) * TASKS_PER_THREAD)
    submitted = client.map(
        run_shard_group,
        [[per_shard[i] for i in group] for group in groups],
        key=[f"{label}-{run}-{group[0]:06d}" for group in groups],
        retries=retries,
        pure=False,
        task=fn,
        **scattered,
    )
    group_of = {future.key: group for future, group in zip(submitted, groups, strict=True)}
    try:
        for batch in dask_completed(submitted).batches():
            if any(future.status == "cancelled" for future in batch):
                raise _LostData
            try:
                values = client.gather(batch)  # raises a task's error (its retries are spent)
            except FutureCancelledError as error:
                raise _LostData from error
            for future, group_values in zip(batch, values, strict=True):
                yield from zip(group_of[future.key], group_values, strict=True)
    except BaseException:  # an error, lost data, or the caller stopped: free the cluster
        client.cancel([*submitted, *(v for v in scattered.values() if _is_future(v))])
        raise
    # Finished: the futures are released as they go out of scope (no round trip to wait for).


def run_shard_group(
    rows: Sequence[tuple[Any, ...]], *, task: Callable[..., T], **shared: Any
) -> list[T]:
    """``[task(*args, **shared) for args in rows]``: one Dask task's consecutive shards."""
    return [task(*args, **shared) for args in rows]


def _groups(pending: list[int], n_tasks: int) -> list[list[int]]:
    """``pending`` cut into at most ``n_tasks`` consecutive groups of nearly equal size."""
    n = max(1, min(n_tasks, len(pending)))
    size, extra = divmod(len(pending), n)
    groups, start = [], 0
    for g in range(n):
        stop = start + size + (g < extra)
        groups.append(pending[start:stop])
        start = stop
    return groups


def _worker_threads(client: Any) -> int:
    """Threads over all the cluster's workers (1 while none has joined yet)."""
    return max(1, sum(client.nthreads().values()))


#: Shared values of these types travel inside each task's message (a few bytes each).
_INLINE = (type(None), bool, int, float, str)


def _send_shared(client: Any, shared: dict[str, Any]) -> dict[str, Any]:
    """The shared arguments as the tasks get them: scalars inline, the rest scattered.

    Everything that is not a scalar (the model, a layout, a strategy, arrays) is scattered to
    every worker in one call, one round trip to the scheduler for all of them.
    """
    sent = {name: value for name, value in shared.items() if isinstance(value, _INLINE)}
    rest = [name for name in shared if name not in sent]
    if rest:
        futures = client.scatter([shared[name] for name in rest], broadcast=True, hash=False)
        sent.update(zip(rest, futures, strict=True))
    return sent


def _is_future(value: Any) -> bool:
    from distributed import Future

    return isinstance(value, Future)


#: Dask settings of :func:`local_cluster`'s workers (see its docstring for the why).
LOCAL_WORKER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.nanny.pre-spawn-environ": {
        "OMP_NUM_THREADS": 1,
        "MKL_NUM_THREADS": 1,
        "OPENBLAS_NUM_THREADS": 1,
    },
}


def local_cluster(n_workers: int = 2, **kwargs: Any) -> Any:
    """A ``dask.distributed.LocalCluster`` of ``n_workers`` one-thread processes for shard tasks.

    Each shard task is numpy and pyarrow work that uses one core (see
    :mod:`labelwise.scale.tasks`), so a worker is a process with one thread. Two Dask defaults
    are changed for its workers, because they cost more than a shard's work is worth:

    * glibc's trim threshold (``MALLOC_TRIM_THRESHOLD_=65536`` in Dask's
      ``distributed.nanny.pre-spawn-environ``) is left at glibc's default: with Dask's value,
      every array of 128 KiB or more is a fresh ``mmap``, so each shard's arrays are
      page-faulted in again (4.8x the page faults and 4x the system time of one process);
      BLAS and OpenMP stay at one thread, as Dask sets them;
    * the statistical profiler of the workers (``distributed.worker.profile``), which walks the
      running task's stack every 10 ms, is off (the dashboard's Profile page stays empty);
    * the event-loop tick (``distributed.admin.tick.interval``, which only watches for a
      blocked loop) is 1 s instead of 20 ms: an idle cluster of two workers then takes 0.04
      instead of 0.09 CPU-seconds a second.

    ``kwargs`` go to ``LocalCluster`` (``dashboard_address``, ``memory_limit``...). For a real
    cluster, set the same keys (:data:`LOCAL_WORKER_CONFIG`) in the workers' Dask configuration.
    """
    import dask
    from distributed import LocalCluster

    options: dict[str, Any] = {"threads_per_worker": 1, "processes": True}
    with dask.config.set(LOCAL_WORKER_CONFIG):
        return LocalCluster(n_workers=n_workers, **{**options, **kwargs})
