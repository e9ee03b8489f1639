"""Load test of ``labelwise serve``: 16 simulated annotators on loopback, SQLite, 100k pool.

Each annotator loops "next task" then "submit" for ``--seconds``; the script reports label
submissions per second, p50/p99 latency of next-task and submit, and double assignments (samples
answered more often than the overlap of 1), and the CPU time the server spent per submission
(user + system; it varies much less with other load on the machine than the rate does).
Bounded: every loop stops after ``--seconds``.

``--mode combined`` (the default) submits with ``?next=true``, so each answer brings the next
task back in the same transaction (the web UI's loop); ``--mode plain`` sends "next task" and
"submit" as two requests, which measures the plain next-task latency. The server runs in its own
process (``--in-process`` puts it in this one, where the 16 client threads share its GIL).

    .venv/bin/python -m benchmarks.server_bench --pool 100000 --annotators 16 --seconds 20
    .venv/bin/python -m benchmarks.server_bench --mode plain
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psutil
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


def annotator(
    base: str, k: int, until: float, out: dict[str, list[float]], combined: bool = True
) -> None:
    headers = {"Authorization": f"Bearer token-{k}"}
    params = {"next": "true"} if combined else {}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        task = None
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            if task is None:
                task = client.post("/api/projects/bench/next").json()["task"]
                out["next"].append(time.perf_counter() - t0)
                if task is None:
                    break
            t1 = time.perf_counter()
            r = client.post(
                f"/api/tasks/{task['task_id']}/annotation", json={"label": "pos"}, params=params
            )
            t2 = time.perf_counter()
            if r.status_code == 201:
                out["submit"].append(t2 - t1)
                out["done"].append(t2)
                following = r.json().get("next") if combined else None
                task = None if following is None else following["task"]
                if combined and task is None:
                    break
            else:
                out["errors"].append(float(r.status_code))
                task = None


def annotator_group(
    base: str, ks: list[int], until: float, combined: bool
) -> tuple[list[dict[str, list[float]]], float]:
    """Run annotators ``ks`` as threads of this (client) process: their timings, its CPU seconds.

    The annotators are spread over a few client processes, as real annotators sit at separate
    browsers: 16 threads of one Python process would queue on its GIL and add that wait to
    every latency measured.
    """
    cpu = time.process_time()
    results: list[dict[str, list[float]]] = [
        {"next": [], "submit": [], "done": [], "errors": []} for _ in ks
    ]
    threads = [
        threading.Thread(target=annotator, args=(base, k, until, out, combined))
        for k, out in zip(ks, results, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.process_time() - cpu


SERVE = """
import sys
from labelwise.server import ServerSettings
from labelwise.server.app import run_server
run_server(ServerSettings(store=sys.argv[1], port=int(sys.argv[2]), background=False))
"""


def serve_in_process(url: str, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(ServerSettings(store=url, background=False))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread


def server_cpu_seconds(process: subprocess.Popen[bytes] | None) -> float:
    """CPU seconds (user + system) the server has used so far: its process, or this one."""
    times = psutil.Process(None if process is None else process.pid).cpu_times()
    return float(times.user + times.system)


def wait_for(base: str, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode}")
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--mode", choices=["combined", "plain"], default="combined")
    parser.add_argument("--in-process", action="store_true", help="serve from this process")
    parser.add_argument(
        "--clients", type=int, default=4, help="client processes the annotators are spread over"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="labelwise-bench-"))
    url = build(folder, args.pool, args.annotators)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    process = None
    if args.in_process:
        server, thread = serve_in_process(url, port)
    else:
        process = subprocess.Popen([sys.executable, "-c", SERVE, url, str(port)])
        wait_for(base, process)
    t = time.perf_counter()
    httpx.get(
        f"{base}/api/admin/projects/bench/settings", headers={"Authorization": "Bearer admin-token"}
    )
    print(f"first request: {time.perf_counter() - t:.1f} s")
    cpu_before = server_cpu_seconds(process)
    combined = args.mode == "combined"
    groups = [list(range(args.annotators))[g :: args.clients] for g in range(args.clients)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(groups), mp_context=ctx) as pool:
        list(pool.map(time.sleep, [0.0] * len(groups)))  # the client processes are up
        start = time.perf_counter()
        until = start + args.seconds
        futures = [pool.submit(annotator_group, base, ks, until, combined) for ks in groups]
        outcomes = [f.result() for f in futures]
    elapsed = time.perf_counter() - start
    cpu = server_cpu_seconds(process) - cpu_before
    results = [r for group, _ in outcomes for r in group]
    client = sum(seconds for _, seconds in outcomes)
    if process is None:
        server.should_exit = True
        thread.join(10)
    else:
        process.terminate()
        process.wait(10)
    from labelwise.store import open_store

    store = open_store(url)
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
    where = "in process" if args.in_process else "own process"
    print(
        f"annotators {args.annotators} in {args.clients} client processes, pool {args.pool},"
        f" {elapsed:.1f} s, {args.mode}, {where}"
    )
    print(f"submissions: {done} ({done / elapsed:.0f}/s), errors {errors}")
    which = (
        "the first task of each annotator, all asked at once at the start"
        if combined
        else "plain next-task requests"
    )
    print(
        f"next-task ms: p50 {np.percentile(nexts, 50):.1f}  p99 {np.percentile(nexts, 99):.1f}"
        f"  ({len(nexts)} {which})"
    )
    what = "submit+next ms" if combined else "submit ms"
    print(f"{what}: p50 {np.percentile(submits, 50):.1f}  p99 {np.percentile(submits, 99):.1f}")
    print(f"double assignments: {doubles}")
    if done:
        print(
            f"server CPU: {cpu:.1f} s user+sys, {cpu / done * 1000:.2f} ms per submission"
            " (less sensitive to other load on the machine than the rate)"
        )
        print(f"client CPU: {client:.1f} s user+sys, {client / done * 1000:.2f} ms per submission")
        print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
