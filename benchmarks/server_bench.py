"""Load test of ``labelwise serve``: 16 simulated annotators on loopback, SQLite, 100k pool.

Each annotator loops "next task" then "submit" for ``--seconds``; the script reports label
submissions per second, p50/p99 latency of next-task and submit, and double assignments (samples
answered more often than the overlap of 1). Bounded: every loop stops after ``--seconds``.

    .venv/bin/python -m benchmarks.server_bench --pool 100000 --annotators 16 --seconds 20
"""

from __future__ import annotations

import argparse
import csv
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import uvicorn
from sqlalchemy import func, select

from labelwise.server import ServerSettings, create_app
from labelwise.store import (
    add_annotator,
    enqueue,
    import_samples,
    init_store,
    list_samples,
    record_round,
)
from labelwise.store.members import add_member
from labelwise.store.schema import Annotation


def build(folder: Path, pool: int, annotators: int) -> str:
    path = folder / "pool.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([f"s{i}", f"sample text {i}"] for i in range(pool))
    url = f"sqlite:///{folder / 'bench.db'}"
    store = init_store(url)
    t = time.perf_counter()
    import_samples(store, path, "bench", labels=["neg", "pos"])
    print(f"import {pool} samples: {time.perf_counter() - t:.1f} s")
    ids = [s.id for s in list_samples(store, "bench")]
    t = time.perf_counter()
    record_round(store, "bench", "random", batch_size=len(ids), create_version=False)
    enqueue(store, "bench", ids, np.random.default_rng(0).random(len(ids)).tolist(), 1)
    print(f"enqueue {pool} samples: {time.perf_counter() - t:.1f} s")
    for k in range(annotators):
        add_annotator(store, f"a{k}", token=f"token-{k}")
        add_member(store, "bench", f"a{k}")
    add_annotator(store, "admin", role="admin", token="admin-token")
    store.close()
    return url


def annotator(base: str, k: int, until: float, out: dict[str, list[float]]) -> None:
    headers = {"Authorization": f"Bearer token-{k}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            task = client.post("/api/projects/bench/next").json()["task"]
            t1 = time.perf_counter()
            out["next"].append(t1 - t0)
            if task is None:
                break
            r = client.post(f"/api/tasks/{task['task_id']}/annotation", json={"label": "pos"})
            t2 = time.perf_counter()
            if r.status_code == 201:
                out["submit"].append(t2 - t1)
                out["done"].append(t2)
            else:
                out["errors"].append(float(r.status_code))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="labelwise-bench-"))
    url = build(folder, args.pool, args.annotators)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ServerSettings(store=url, background=False)
    from labelwise.store import open_store

    store = open_store(url)
    app = create_app(settings, store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    t = time.perf_counter()
    httpx.get(
        f"{base}/api/admin/projects/bench/settings", headers={"Authorization": "Bearer admin-token"}
    )
    print(f"first request: {time.perf_counter() - t:.1f} s")
    results = [{"next": [], "submit": [], "done": [], "errors": []} for _ in range(args.annotators)]
    start = time.perf_counter()
    until = start + args.seconds
    workers = [
        threading.Thread(target=annotator, args=(base, k, until, results[k]))
        for k in range(args.annotators)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    server.should_exit = True
    thread.join(10)
    nexts = np.array([x for r in results for x in r["next"]]) * 1000
    submits = np.array([x for r in results for x in r["submit"]]) * 1000
    done = sum(len(r["done"]) for r in results)
    errors = sum(len(r["errors"]) for r in results)
    with store.read() as session:
        per_sample = (
            select(Annotation.sample_id, func.count().label("n"))
            .group_by(Annotation.sample_id)
            .subquery()
        )
        doubles = session.scalar(
            select(func.count()).select_from(per_sample).where(per_sample.c.n > 1)
        )
    print(f"annotators {args.annotators}, pool {args.pool}, {elapsed:.1f} s")
    print(f"submissions: {done} ({done / elapsed:.0f}/s), errors {errors}")
    print(f"next-task ms: p50 {np.percentile(nexts, 50):.1f}  p99 {np.percentile(nexts, 99):.1f}")
    print(
        f"submit ms:    p50 {np.percentile(submits, 50):.1f}  p99 {np.percentile(submits, 99):.1f}"
    )
    print(f"double assignments: {doubles}")


if __name__ == "__main__":
    main()
