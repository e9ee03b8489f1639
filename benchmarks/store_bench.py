"""Store speed at scale: bulk import, re-import, status counts, next task by score.

Not run by the tests. Prints one JSON object of figures::

    python -m benchmarks.store_bench                          # 1M rows into a SQLite file
    python -m benchmarks.store_bench --url postgresql://postgres@127.0.0.1:5432/test
    python -m benchmarks.store_bench --rows 100000 --queue 0  # import only

The CSV (``id,text,label,split,source``: 10% of rows labeled, 1% eval) is written once to
``benchmarks/.cache/`` and reused. A SQLite store lives in a temporary folder; on PostgreSQL the
run makes a schema of its own (``labelwise_bench_<random>``) and drops it afterwards. Import
speed is reported on the wall clock and on the process's CPU time (less sensitive to other
load); the load average is printed beside the figures. Status and next task by score are timed
twice: in the process that just imported and queued the pool (``after_import``), and on the
same store opened again (``reopened``), each as the median wall-clock and CPU milliseconds of
its calls. Targets (issue 4): import >= 50,000 rows/s; status and next task < 10 ms at 1M
samples.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from labelwise.store import (
    Store,
    add_annotator,
    enqueue,
    import_samples,
    init_store,
    lease_next_task,
    open_store,
    status,
    submit_annotation,
)
from labelwise.store.schema import Sample

CACHE = Path(__file__).resolve().parent / ".cache"


def pool_csv(rows: int) -> Path:
    """The benchmark CSV of ``rows`` rows, written on first use."""
    path = CACHE / f"store_pool_{rows}.csv"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w") as handle:
        handle.write("id,text,label,split,source\n")
        for start in range(0, rows, 100_000):
            handle.write(
                "".join(
                    f"r{i},review number {i} says something about the film,"
                    f"{('neg', 'pos')[i % 2] if i % 10 == 0 else ''},"
                    f"{'eval' if i % 100 == 7 else 'pool'},{('web', 'shop', 'mail')[i % 3]}\n"
                    for i in range(start, min(start + 100_000, rows))
                )
            )
    partial.rename(path)
    return path


@contextmanager
def bench_store(url: str | None) -> Iterator[Store]:
    """A fresh store: a SQLite file in a temporary folder, or a new PostgreSQL schema."""
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            store = init_store(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
            try:
                yield store
            finally:
                store.close()
        return
    import psycopg

    server = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"labelwise_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        joiner = "&" if "?" in server else "?"
        store = init_store(f"{server}{joiner}options=-csearch_path%3D{schema}")
        try:
            yield store
        finally:
            store.close()
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def median_ms(fn: Callable[[], object], repeat: int = 50) -> dict[str, float]:
    """Median wall-clock and CPU milliseconds of ``repeat`` calls of ``fn``."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = timed(fn)
        walls.append(wall * 1000)
        cpus.append(cpu * 1000)
    return {"ms": round(statistics.median(walls), 2), "cpu_ms": round(statistics.median(cpus), 2)}


def enqueue_pool(store: Store, queue: int) -> dict[str, object]:
    """Enqueue up to ``queue`` unlabeled pool samples with scores; their count and the time."""
    with store.read() as session:
        ids = list(
            session.scalars(
                select(Sample.id)
                .where(Sample.split == "pool", Sample.state == "unlabeled")
                .limit(queue)
            )
        )
    start = time.perf_counter()
    enqueue(store, "bench", ids, [float(i % 9973) for i in range(len(ids))])
    add_annotator(store, "bench")
    return {"queued": len(ids), "enqueue_s": round(time.perf_counter() - start, 2)}


def next_task_figures(store: Store, leases: int = 50) -> dict[str, object]:
    """Median time of leasing the next task by score (each answered before the next lease)."""
    served, walls, cpus = [], [], []
    for _ in range(leases):
        wall, cpu = time.perf_counter(), time.process_time()
        lease = lease_next_task(store, "bench", "bench")
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        assert lease is not None
        served.append(lease)
        submit_annotation(store, lease.task_id, "bench", "pos")
    return {
        "next_task_ms": round(statistics.median(walls), 2),
        "next_task_cpu_ms": round(statistics.median(cpus), 2),
        "served_in_score_order": all(
            a.priority >= b.priority for a, b in itertools.pairwise(served)
        ),
    }


def status_figures(store: Store) -> dict[str, object]:
    """Median time of ``status`` on the benchmark project."""
    timing = median_ms(lambda: status(store, "bench"))
    return {"status_ms": timing["ms"], "status_cpu_ms": timing["cpu_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default=None, help="store URL (default: a SQLite file)")
    parser.add_argument("--queue", type=int, default=None, help="samples to enqueue (all)")
    args = parser.parse_args()
    data = pool_csv(args.rows)
    figures: dict[str, object] = {"rows": args.rows, "cpus": os.cpu_count()}
    figures["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    with bench_store(args.url) as store:
        figures["url"] = store.url.split("@")[-1].split("?")[0]
        wall, cpu = timed(lambda: import_samples(store, data, "bench", labels=["neg", "pos"]))
        figures |= {
            "import_s": round(wall, 2),
            "import_rows_per_s": round(args.rows / wall),
            "import_cpu_s": round(cpu, 2),
            "import_rows_per_cpu_s": round(args.rows / cpu),
        }
        figures["status_right_after_import"] = status_figures(store)
        wall, _ = timed(lambda: import_samples(store, data, "bench"))
        figures["reimport_s"] = round(wall, 2)
        figures["load_average_after_import"] = [round(x, 2) for x in os.getloadavg()]
        figures["samples"] = status(store, "bench").samples
        queue = args.rows if args.queue is None else args.queue
        if queue:
            figures |= enqueue_pool(store, queue)
            figures["after_import"] = status_figures(store) | next_task_figures(store)
            reopened = open_store(store.url)
            try:
                figures["reopened"] = status_figures(reopened) | next_task_figures(reopened)
            finally:
                reopened.close()
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
