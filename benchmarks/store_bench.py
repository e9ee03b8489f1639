"""Store speed at scale: bulk import, status counts, next task by score.

Not run by the tests. ``python -m benchmarks.store_bench --rows 1000000 [--url URL]``
(default: a SQLite file in a temporary folder). Prints one JSON object of figures.
Targets (issue 4): import >= 50,000 rows/s; status and next task < 10 ms at 1M samples.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

from labelwise.store import (
    add_annotator,
    enqueue,
    import_samples,
    init_store,
    lease_next_task,
    list_samples,
    status,
    submit_annotation,
)


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as handle:
        handle.write("id,text,source\n")
        for i in range(rows):
            handle.write(f"r{i},review number {i} says something about the film,web\n")


def median_ms(fn, repeat: int = 50) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default=None)
    parser.add_argument("--queue", type=int, default=None, help="samples to enqueue (all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        data = Path(tmp) / "pool.csv"
        write_csv(data, args.rows)
        store = init_store(url)
        start = time.perf_counter()
        import_samples(store, data, "bench", labels=["neg", "pos"])
        seconds = time.perf_counter() - start
        figures: dict[str, object] = {
            "url": store.url.split("@")[-1],
            "rows": args.rows,
            "import_s": round(seconds, 2),
            "import_rows_per_s": round(args.rows / seconds),
        }
        ids = [s.id for s in list_samples(store, "bench")][: args.queue or args.rows]
        start = time.perf_counter()
        enqueue(store, "bench", ids, [float(i % 9973) for i in range(len(ids))])
        figures["enqueue_s"] = round(time.perf_counter() - start, 2)
        figures["queued"] = len(ids)
        figures["status_ms"] = round(median_ms(lambda: status(store, "bench")), 2)
        add_annotator(store, "bench")
        leases = []

        def lease_and_answer() -> None:
            lease = lease_next_task(store, "bench", "bench")
            assert lease is not None
            leases.append(lease)

        timings = []
        for _ in range(50):
            start = time.perf_counter()
            lease_and_answer()
            timings.append((time.perf_counter() - start) * 1000)
            submit_annotation(store, leases[-1].task_id, "bench", "pos")
        figures["next_task_ms"] = round(statistics.median(timings), 2)
        figures["served_in_score_order"] = all(
            a.priority >= b.priority for a, b in itertools.pairwise(leases)
        )
        store.close()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
