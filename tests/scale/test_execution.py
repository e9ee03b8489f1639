"""map_shards in this process: order, shard groups for Dask, one BLAS thread per shard thread."""

from __future__ import annotations

import pytest

from labelwise.scale.execution import _groups, map_shards


def test_results_come_back_in_input_order_with_progress_for_every_shard() -> None:
    told: list[tuple[int, int]] = []
    got = map_shards(
        pow, [(i,) for i in range(9)], {"exp": 2}, n_threads=3, progress=lambda *a: told.append(a)
    )
    assert got == [i * i for i in range(9)]
    assert sorted(told) == [(d, 9) for d in range(1, 10)]


@pytest.mark.parametrize(("n", "tasks"), [(100, 8), (7, 8), (9, 4), (1, 1)])
def test_groups_are_consecutive_nearly_equal_and_cover_every_shard(n: int, tasks: int) -> None:
    pending = list(range(3, 3 + n))
    groups = _groups(pending, tasks)
    assert [i for g in groups for i in g] == pending
    assert len(groups) == min(tasks, n)
    assert max(map(len, groups)) - min(map(len, groups)) <= 1


def blas_threads(_: int) -> int:
    from threadpoolctl import threadpool_info

    blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(blas, default=1)


def test_shard_threads_hold_blas_to_one_thread_each() -> None:
    pytest.importorskip("threadpoolctl")
    assert map_shards(blas_threads, [(0,), (1,)], n_threads=2) == [1, 1]
