"""Load test of ``labelwise serve``: 16 simulated annotators on loopback, SQLite, 100k pool.

Each annotator labels for ``--seconds``, sending what its client sends (``--mode``):

- ``ui`` (the default): exactly the requests of the annotation page
  (``server/static/annotate.js``): at sign-in ``GET /api/me``, ``GET /api/projects``, the first
  next task and progress; then per label one ``POST /api/tasks/{id}/answer``, which brings the
  next task and the progress back; a lease heartbeat if a task stays open 30 s; on an empty
  queue, next task and progress again after 2 s. Text tasks: no image request.
- ``ui-before``: the page before that request: answer, next task, progress (three per label).
- ``combined`` / ``plain``: API clients (answer with ``?next=true``; next task then answer).

It reports labels per second, p50/p99 latency per request kind, double assignments (samples
answered more often than the overlap of 1, counted in the store afterwards) and the CPU time
the server spent per label (user + system; it varies much less with other load on the machine
than the rate does). Bounded: every loop stops after ``--seconds``. The server runs in its own
process (``--in-process`` puts it in this one, where the client threads share its GIL).

    .venv/bin/python -m benchmarks.server_bench --pool 100000 --annotators 16 --seconds 20
    .venv/bin/python -m benchmarks.server_bench --mode ui-before --seconds 20
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
from typing import Any

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

#: The clients the benchmark can play, and what each sends per label.
MODES = {
    "ui": "the annotation page: one request per label, the answer bringing next task + progress",
    "ui-before": "the page before: answer, next task, progress (three requests per label)",
    "combined": "an API client: answer with ?next=true",
    "plain": "an API client: next task, then answer",
}
REQUESTS = {
    "me": "GET /api/me (sign-in)",
    "projects": "GET /api/projects (sign-in)",
    "next": "POST /api/projects/{p}/next",
    "progress": "GET /api/projects/{p}/progress",
    "answer": "POST /api/tasks/{t}/answer",
    "annotation": "POST /api/tasks/{t}/annotation",
    "lease": "POST /api/tasks/{t}/lease (heartbeat)",
}


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


#: Seconds between the page's lease heartbeats while a task is open (annotate.js).
HEARTBEAT_SECONDS = 30.0


class Page:
    """One annotator's requests, timed by name, as the client of ``mode`` sends them."""

    def __init__(self, client: httpx.Client, out: dict[str, list[float]]) -> None:
        self.client = client
        self.out = out

    def send(self, name: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        t0 = time.perf_counter()
        response = self.client.request(method, url, **kwargs)
        self.out.setdefault(name, []).append(time.perf_counter() - t0)
        if response.status_code >= 400:
            self.out["errors"].append(float(response.status_code))
        return response


def annotator(base: str, k: int, until: float, out: dict[str, list[float]], mode: str) -> None:
    """Label until ``until`` as annotator ``k``, sending what ``mode``'s client sends."""
    headers = {"Authorization": f"Bearer token-{k}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        page = Page(client, out)
        if mode in ("ui", "ui-before"):
            ui_page(page, until, out, mode == "ui")
        else:
            api_client(page, until, out, mode == "combined")


def ui_page(page: Page, until: float, out: dict[str, list[float]], one_request: bool) -> None:
    """What annotate.js sends: sign-in (me, projects), next task and progress; then per label
    ``one_request``: the answer that brings the next task and the progress back (the page
    today); else the page before it: answer, next task, progress (three requests). A heartbeat
    every 30 s while a task stays open; on an empty queue, next task again after 2 s."""
    page.send("me", "GET", "/api/me")
    page.send("projects", "GET", "/api/projects")
    task = page.send("next", "POST", "/api/projects/bench/next").json()["task"]
    page.send("progress", "GET", "/api/projects/bench/progress")
    shown = time.perf_counter()
    while time.perf_counter() < until:
        if task is None:
            time.sleep(2.0)
            task = page.send("next", "POST", "/api/projects/bench/next").json()["task"]
            page.send("progress", "GET", "/api/projects/bench/progress")
            shown = time.perf_counter()
            continue
        if time.perf_counter() - shown >= HEARTBEAT_SECONDS:
            page.send("lease", "POST", f"/api/tasks/{task['task_id']}/lease")
            shown = time.perf_counter()
        body = {"label": "pos", "seconds_spent": 0.01}
        if one_request:
            r = page.send("answer", "POST", f"/api/tasks/{task['task_id']}/answer", json=body)
            if r.status_code == 201:
                out["done"].append(time.perf_counter())
                task = r.json()["next"]["task"]
            else:
                task = None
        else:
            r = page.send(
                "annotation", "POST", f"/api/tasks/{task['task_id']}/annotation", json=body
            )
            if r.status_code == 201:
                out["done"].append(time.perf_counter())
            task = page.send("next", "POST", "/api/projects/bench/next").json()["task"]
            page.send("progress", "GET", "/api/projects/bench/progress")
        shown = time.perf_counter()


def api_client(page: Page, until: float, out: dict[str, list[float]], combined: bool) -> None:
    """A client of the API alone: answer with ``?next=true`` (combined), or next task and
    answer as two requests (plain)."""
    params = {"next": "true"} if combined else {}
    task = None
    while time.perf_counter() < until:
        if task is None:
            task = page.send("next", "POST", "/api/projects/bench/next").json()["task"]
            if task is None:
                break
        url = f"/api/tasks/{task['task_id']}/annotation"
        r = page.send("annotation", "POST", url, json={"label": "pos"}, params=params)
        if r.status_code == 201:
            out["done"].append(time.perf_counter())
            following = r.json().get("next") if combined else None
            task = None if following is None else following["task"]
            if combined and task is None:
                break
        else:
            task = None


def annotator_group(
    base: str, ks: list[int], until: float, mode: str
) -> tuple[list[dict[str, list[float]]], float]:
    """Run annotators ``ks`` as threads of this (client) process: their timings, its CPU seconds.

    The annotators are spread over a few client processes, as real annotators sit at separate
    browsers: 16 threads of one Python process would queue on its GIL and add that wait to
    every latency measured.
    """
    cpu = time.process_time()
    results: list[dict[str, list[float]]] = [{"done": [], "errors": []} for _ in ks]
    threads = [
        threading.Thread(target=annotator, args=(base, k, until, out, mode))
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
    parser.add_argument("--mode", choices=MODES, default="ui")
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
    groups = [list(range(args.annotators))[g :: args.clients] for g in range(args.clients)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(groups), mp_context=ctx) as pool:
        list(pool.map(time.sleep, [0.0] * len(groups)))  # the client processes are up
        start = time.perf_counter()
        until = start + args.seconds
        futures = [pool.submit(annotator_group, base, ks, until, args.mode) for ks in groups]
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
    store.close()
    where = "in process" if args.in_process else "own process"
    print(
        f"annotators {args.annotators} in {args.clients} client processes, pool {args.pool},"
        f" {elapsed:.1f} s, mode {args.mode} ({MODES[args.mode]}), server in {where}"
    )
    print(f"labels: {done} ({done / elapsed:.0f}/s), errors {errors}")
    names = sorted({name for r in results for name in r} - {"done", "errors"})
    for name in names:
        ms = np.array([x for r in results for x in r.get(name, [])]) * 1000
        print(
            f"  {REQUESTS.get(name, name)}: {len(ms)} requests ({len(ms) / max(done, 1):.2f} per"
            f" label), ms p50 {np.percentile(ms, 50):.1f}  p99 {np.percentile(ms, 99):.1f}"
        )
    print(f"double assignments: {doubles}")
    if done:
        print(
            f"server CPU: {cpu:.1f} s user+sys, {cpu / done * 1000:.2f} ms per label"
            " (less sensitive to other load on the machine than the rate)"
        )
        print(f"client CPU: {client:.1f} s user+sys, {client / done * 1000:.2f} ms per label")
        print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
