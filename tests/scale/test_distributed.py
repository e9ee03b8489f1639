"""On a real Dask LocalCluster (2 worker processes): the same selection as one process.

The cluster is created once for the module. A worker killed in the middle of a round costs a
retry and never changes the result.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import tests.scale.test_distributed as this_module  # noqa: E402
from labelwise.scale import ShardError, select_from_shards, write_shards  # noqa: E402
from labelwise.scale.execution import _send_shared, local_cluster, map_shards  # noqa: E402

cloudpickle.register_pickle_by_value(this_module)  # workers need not import the tests package


@pytest.fixture(scope="module")
def client():
    cluster = local_cluster(2, dashboard_address=None, memory_limit="1GiB", silence_logs=40)
    with distributed.Client(cluster) as c:
        c.run(importlib.import_module, "labelwise.scale.tasks")  # warm both workers once
        yield c
    cluster.close()


def worker_settings(dask_worker) -> dict:
    import dask

    return {
        "threads": dask_worker.state.nthreads,
        "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "profiler": dask.config.get("distributed.worker.profile.enabled"),
    }


def test_local_cluster_workers_have_one_thread_glibc_trimming_and_no_profiler(client) -> None:
    for settings in client.run(worker_settings).values():
        assert settings == {
            "threads": 1,
            "malloc_trim": None,
            "blas_threads": "1",
            "profiler": False,
        }


def test_shared_scalars_travel_inline_and_everything_else_is_scattered(client) -> None:
    sent = _send_shared(client, {"k": 3, "name": "x", "model": DyingOnce("unused")})
    assert sent["k"] == 3 and sent["name"] == "x"
    assert isinstance(sent["model"], distributed.Future)
    assert len(client.who_has([sent["model"]])[sent["model"].key]) == 2  # on both workers


def test_shards_grouped_into_tasks_come_back_in_order_with_progress_for_each(client) -> None:
    told: list[tuple[int, int]] = []
    shards = [(i,) for i in range(30)]
    got = map_shards(pow, shards, {"exp": 2}, client=client, progress=lambda *a: told.append(a))
    assert got == [i * i for i in range(30)]
    assert sorted(told) == [(d, 30) for d in range(1, 31)]


@pytest.mark.parametrize("name", ["entropy", "margin", "least_confidence", "ratio"])
def test_distributed_equals_single_process(client, proba_pool, name: str) -> None:
    folder, _, _ = proba_pool
    local = select_from_shards(folder, name, 100)
    remote = select_from_shards(folder, name, 100, client=client)
    assert remote.ids.tolist() == local.ids.tolist()
    np.testing.assert_array_equal(remote.scores, local.scores)


def test_bald_on_stored_samples_is_the_same_on_the_cluster(client, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    samples = rng.dirichlet(np.ones(3), size=(6, 20_000)).astype(np.float32)
    samples[:, 100:400] = samples[:, 100:101]  # 300 identical items: ties across shards
    write_shards(samples.transpose(1, 0, 2), rng.permutation(20_000), tmp_path, 3_000)
    local = select_from_shards(tmp_path, "bald", 50)
    remote = select_from_shards(tmp_path, "bald", 50, client=client)
    assert remote.ids.tolist() == local.ids.tolist()


def test_exclusion_on_the_cluster(client, proba_pool) -> None:
    folder, _ids, _ = proba_pool
    excluded = select_from_shards(folder, "entropy", 150).ids
    remote = select_from_shards(folder, "entropy", 100, client=client, exclude_ids=excluded)
    local = select_from_shards(folder, "entropy", 100, exclude_ids=excluded)
    assert remote.ids.tolist() == local.ids.tolist()
    assert not np.isin(remote.ids, excluded).any()


def test_two_round_k_center_is_the_same_on_the_cluster(client, embedding_pool) -> None:
    folder, ids, _ = embedding_pool
    kwargs = {"labeled_ids": ids[:10], "method": "two_round"}
    local = select_from_shards(folder, "coreset", 20, **kwargs)
    remote = select_from_shards(folder, "coreset", 20, client=client, **kwargs)
    assert remote.ids.tolist() == local.ids.tolist()
    assert remote.covering_radius == pytest.approx(local.covering_radius)


class DyingOnce:
    """Stored probabilities passed through, except that the first call kills its worker."""

    classes_ = np.arange(5)

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return np.asarray(X)
        os.close(fd)
        os._exit(1)  # the worker process dies mid-round, holding its shard task


def test_a_worker_killed_mid_round_costs_a_retry_not_the_result(
    client, proba_pool, tmp_path: Path
) -> None:
    folder, _, _ = proba_pool
    expected = select_from_shards(folder, "margin", 100)
    marker = tmp_path / "died"
    got = select_from_shards(folder, "margin", 100, model=DyingOnce(str(marker)), client=client)
    assert marker.exists(), "no worker died: the test proved nothing"
    assert got.ids.tolist() == expected.ids.tolist()
    client.wait_for_workers(2, timeout=60)


def test_a_bad_shard_is_named_before_the_cluster_runs(client, tmp_path: Path) -> None:
    write_shards(np.full((40, 2), 0.5), None, tmp_path, rows_per_shard=10)
    (tmp_path / "shard-00003.parquet").write_bytes(b"PAR1 broken")
    with pytest.raises(ShardError, match=r"shard-00003\.parquet"):
        select_from_shards(tmp_path, "entropy", 5, client=client)


def test_a_lone_worker_dying_loses_the_scattered_model_and_it_is_sent_again(
    proba_pool, tmp_path: Path
) -> None:
    """With one worker, its death loses every scattered argument: the round resends them."""
    folder, _, _ = proba_pool
    expected = select_from_shards(folder, "margin", 100)
    marker = tmp_path / "died"
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    )
    with cluster, distributed.Client(cluster) as lone:
        got = select_from_shards(folder, "margin", 100, model=DyingOnce(str(marker)), client=lone)
    assert marker.exists(), "no worker died: the test proved nothing"
    assert got.ids.tolist() == expected.ids.tolist()
