"""Load test of ``labelwise serve``: 16 simulated annotators on loopback, a 100k pool.

Each annotator labels for ``--seconds``, sending what its client sends (``--mode``):

- ``ui`` (the default): exactly the requests of the annotation page
  (``server/static/annotate.js``, :class:`benchmarks.service.Page`): at sign-in ``GET /api/me``,
  ``GET /api/projects``, ``GET /api/projects/{p}/model``, the first next task (with its
  suggestion) and the progress; then per label ``POST /api/tasks/{t}/answer``, one request
  that brings the next task, its suggestion and the progress back; the model's state every
  10 s (a new model: the progress and ``POST /api/tasks/{t}/guess``, its suggestion for the task
  in view); a lease heartbeat if a task stays open 30 s; on an empty queue, next task and
  progress again after 2 s. Text tasks: no image request.
- ``ui-before``: the page before issue 16: answer, next task, progress (three per label).
- ``combined`` / ``plain``: API clients (answer with ``?next=true``; next task then answer).

Where the server runs:

- default: SQLite, ``labelwise.server.app.run_server`` in a process of its own without the
  trainer (``--in-process``: in this one, where the client threads share its GIL);
- ``--workers N`` (or a ``--store postgresql://...``): the real ``labelwise serve`` command, as an
  operator starts it. On PostgreSQL: ``labelwise serve --workers N --trainer worker`` and one
  ``labelwise worker`` (the trainer), in a fresh schema of ``--store``'s database, dropped
  afterwards; on SQLite ``labelwise serve`` (one process, trainer in a thread). ``--workers 1,2``
  runs each in turn, each on a fresh store, and prints the rates' ratio to the first.

The project retrains every ``--retrain-every`` labels (default: never during the run, so that
the figures are those of the request path; the trainer still polls and tops up the queue).

It reports labels per second, p50/p99 latency per request kind, next-task replies without a
task, double assignments (samples answered more often than the overlap of 1, counted in the
store afterwards) and the CPU time per label of every server process (uvicorn's supervisor and
API workers, the trainer) and, on PostgreSQL, of the database backends that served them.

    .venv/bin/python -m benchmarks.server_bench --pool 100000 --annotators 16 --seconds 20
    .venv/bin/python -m benchmarks.server_bench --workers 1 --seconds 20
    .venv/bin/python -m benchmarks.server_bench \
        --store postgresql://postgres@127.0.0.1:5432/test --workers 1,2 --seconds 20
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psutil
import uvicorn
from sqlalchemy import func, select

from benchmarks.service import (
    PROJECT,
    Page,
    Processes,
    build_store,
    cpu_spent,
    free_port,
    fresh_store_url,
    is_postgres,
    wait_ready,
)
from labelwise.server import ServerSettings, create_app
from labelwise.store import open_store
from labelwise.store.schema import Annotation

#: The clients the benchmark can play, and what each sends per label.
MODES = {
    "ui": "the annotation page: the answer (bringing the next task, its suggestion and progress)",
    "ui-before": "the page before issue 16: answer, next task, progress (three requests per label)",
    "combined": "an API client: answer with ?next=true",
    "plain": "an API client: next task, then answer",
}
REQUESTS = {
    "me": "GET /api/me (sign-in)",
    "projects": "GET /api/projects (sign-in)",
    "model": "GET /api/projects/{p}/model (every 10 s)",
    "next": "POST /api/projects/{p}/next",
    "progress": "GET /api/projects/{p}/progress",
    "answer": "POST /api/tasks/{t}/answer",
    "guess": "POST /api/tasks/{t}/guess (a new model's suggestion)",
    "annotation": "POST /api/tasks/{t}/annotation",
    "lease": "POST /api/tasks/{t}/lease (heartbeat)",
}
#: Never retrain during the run (the request path alone); ``--retrain-every`` changes it.
NEVER = 1_000_000_000


def annotator(base: str, k: int, until: float, out: dict[str, list[float]], mode: str) -> None:
    """Label until ``until`` as annotator ``k``, sending what ``mode``'s client sends."""
    headers = {"Authorization": f"Bearer token-{k}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        page = Page(client, out, PROJECT)
        if mode == "ui":
            page.label_until(until)
        elif mode == "ui-before":
            ui_before(page, until, out)
        else:
            api_client(page, until, out, mode == "combined")


def ui_before(page: Page, until: float, out: dict[str, list[float]]) -> None:
    """The page before issue 16: per label the answer, then next task and progress."""
    path = f"/api/projects/{PROJECT}"
    page.send("me", "GET", "/api/me")
    page.send("projects", "GET", "/api/projects")
    task = page.send("next", "POST", f"{path}/next").json()["task"]
    page.send("progress", "GET", f"{path}/progress")
    while time.perf_counter() < until:
        if task is None:
            out["no_task"].append(time.perf_counter())
            time.sleep(2.0)
        else:
            url = f"/api/tasks/{task['task_id']}/annotation"
            if page.send("annotation", "POST", url, json={"label": "pos"}).status_code == 201:
                out["done"].append(time.perf_counter())
        task = page.send("next", "POST", f"{path}/next").json()["task"]
        page.send("progress", "GET", f"{path}/progress")


def api_client(page: Page, until: float, out: dict[str, list[float]], combined: bool) -> None:
    """A client of the API alone: answer with ``?next=true`` (combined), or next task and
    answer as two requests (plain)."""
    params = {"next": "true"} if combined else {}
    task = None
    while time.perf_counter() < until:
        if task is None:
            task = page.send("next", "POST", f"/api/projects/{PROJECT}/next").json()["task"]
            if task is None:
                out["no_task"].append(time.perf_counter())
                break
        url = f"/api/tasks/{task['task_id']}/annotation"
        r = page.send("annotation", "POST", url, json={"label": "pos"}, params=params)
        if r.status_code == 201:
            out["done"].append(time.perf_counter())
            following = r.json().get("next") if combined else None
            task = None if following is None else following["task"]
            if combined and task is None:
                out["no_task"].append(time.perf_counter())
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
    results: list[dict[str, list[float]]] = [{"done": [], "errors": [], "no_task": []} for _ in ks]
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


@dataclass
class Outcome:
    """One run's figures."""

    where: str
    elapsed: float
    done: int
    errors: int
    no_task: int
    doubles: int
    server_cpu: float
    roles_cpu: dict[str, float]
    database_cpu: float
    client_cpu: float
    latencies: dict[str, np.ndarray]

    @property
    def rate(self) -> float:
        return self.done / self.elapsed

    def report(self, args: argparse.Namespace) -> None:
        print(
            f"annotators {args.annotators} in {args.clients} client processes, pool {args.pool},"
            f" {self.elapsed:.1f} s, mode {args.mode} ({MODES[args.mode]}), server: {self.where}"
        )
        print(f"labels: {self.done} ({self.rate:.0f}/s), errors {self.errors}")
        for name, ms in sorted(self.latencies.items()):
            print(
                f"  {REQUESTS.get(name, name)}: {len(ms)} requests"
                f" ({len(ms) / max(self.done, 1):.2f} per label),"
                f" ms p50 {np.percentile(ms, 50):.1f}  p99 {np.percentile(ms, 99):.1f}"
            )
        print(f"next-task replies without a task: {self.no_task}")
        print(f"double assignments: {self.doubles}")
        if self.done:
            per = 1000 / self.done
            roles = ", ".join(
                f"{role} {seconds * per:.2f}" for role, seconds in sorted(self.roles_cpu.items())
            )
            print(
                f"server CPU: {self.server_cpu:.1f} s user+sys over every server process,"
                f" {self.server_cpu * per:.2f} ms per label ({roles})"
            )
            if self.database_cpu:
                print(
                    f"database CPU (PostgreSQL backends of the run): {self.database_cpu:.1f} s,"
                    f" {self.database_cpu * per:.2f} ms per label; server + database"
                    f" {(self.server_cpu + self.database_cpu) * per:.2f} ms per label"
                )
            print(f"client CPU: {self.client_cpu:.1f} s user+sys, {self.client_cpu * per:.2f} ms")
        print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.1f}", flush=True)


def count_doubles(url: str) -> int:
    """Samples answered more often than the overlap of 1."""
    store = open_store(url)
    try:
        with store.read() as session:
            per_sample = (
                select(Annotation.sample_id, func.count().label("n"))
                .group_by(Annotation.sample_id)
                .subquery()
            )
            return int(
                session.scalar(
                    select(func.count()).select_from(per_sample).where(per_sample.c.n > 1)
                )
                or 0
            )
    finally:
        store.close()


def drive(base: str, args: argparse.Namespace) -> tuple[list[dict[str, list[float]]], float, float]:
    """The annotators' run against ``base``: their timings, client CPU, seconds elapsed."""
    groups = [list(range(args.annotators))[g :: args.clients] for g in range(args.clients)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(groups), mp_context=ctx) as pool:
        list(pool.map(time.sleep, [0.0] * len(groups)))  # the client processes are up
        start = time.perf_counter()
        until = start + args.seconds
        futures = [pool.submit(annotator_group, base, ks, until, args.mode) for ks in groups]
        outcomes = [f.result() for f in futures]
    elapsed = time.perf_counter() - start
    results = [r for group, _ in outcomes for r in group]
    return results, sum(seconds for _, seconds in outcomes), elapsed


def outcome(
    where: str,
    results: list[dict[str, list[float]]],
    client: float,
    elapsed: float,
    cpu: dict[str, float],
    database: float,
    doubles: int,
) -> Outcome:
    names = sorted({name for r in results for name in r} - {"done", "errors", "no_task"})
    latencies = {
        name: np.array([x for r in results for x in r.get(name, [])]) * 1000 for name in names
    }
    return Outcome(
        where=where,
        elapsed=elapsed,
        done=sum(len(r["done"]) for r in results),
        errors=sum(len(r["errors"]) for r in results),
        no_task=sum(len(r["no_task"]) for r in results),
        doubles=doubles,
        server_cpu=sum(cpu.values()),
        roles_cpu=cpu,
        database_cpu=database,
        client_cpu=client,
        latencies={k: v for k, v in latencies.items() if len(v)},
    )


def run_script_server(url: str, args: argparse.Namespace) -> Outcome:
    """SQLite served by ``run_server`` without a trainer (in this process or its own)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = None
    if args.in_process:
        server, thread = serve_in_process(url, port)
    else:
        process = subprocess.Popen([sys.executable, "-c", SERVE, url, str(port)])
        wait_ready(base, process)
    pid = os.getpid() if process is None else process.pid
    before = psutil.Process(pid).cpu_times()
    results, client, elapsed = drive(base, args)
    after = psutil.Process(pid).cpu_times()
    cpu = after.user + after.system - before.user - before.system
    if process is None:
        server.should_exit = True
        thread.join(10)
    else:
        process.terminate()
        process.wait(10)
    where = "run_server, no trainer, " + ("in process" if args.in_process else "own process")
    return outcome(where, results, client, elapsed, {"api": cpu}, 0.0, count_doubles(url))


def run_service(url: str, workers: int, folder: Path, args: argparse.Namespace) -> Outcome:
    """The real ``labelwise serve`` (and ``labelwise worker`` on PostgreSQL)."""
    service = Processes(url, workers, free_port(), folder, profile=args.profile)
    try:
        ready = service.start()
        print(f"labelwise serve ready in {ready:.1f} s; logs in {folder}", flush=True)
        httpx.get(
            f"{service.base}/api/projects/{PROJECT}/progress",
            headers={"Authorization": "Bearer token-0"},
            timeout=60,
        )
        before, db_before = service.cpu(), service.backend_cpu()
        results, client, elapsed = drive(service.base, args)
        spent = cpu_spent(before, service.cpu(), service.pids())
        database = sum(cpu_spent(db_before, service.backend_cpu()).values())
    finally:
        service.stop()
    if is_postgres(url):
        where = (
            f"labelwise serve --workers {workers} --trainer worker + labelwise worker, PostgreSQL"
        )
    else:
        where = "labelwise serve (one process, trainer in a thread), SQLite"
    found = outcome(where, results, client, elapsed, spent, database, count_doubles(url))
    return found


def one_run(workers: int | None, args: argparse.Namespace) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="labelwise-bench-") as tmp:
        folder = Path(tmp)
        with fresh_store_url(args.store, folder) as url:
            retrain = NEVER if args.retrain_every is None else args.retrain_every
            build_store(url, folder, args.pool, args.annotators, {"retrain_every": retrain})
            if workers is None:
                return run_script_server(url, args)
            return run_service(url, workers, folder, args)


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
    parser.add_argument(
        "--store",
        metavar="URL",
        help="a PostgreSQL server's URL (a fresh schema per run, dropped after); default SQLite",
    )
    parser.add_argument(
        "--workers",
        metavar="N[,N...]",
        help="run the real `labelwise serve --workers N` (each N in turn; PostgreSQL: with "
        "`labelwise worker`)",
    )
    parser.add_argument(
        "--retrain-every", type=int, help="labels between rounds (default: no round in the run)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="with --workers 1: run serve and worker under cProfile, statistics to "
        "DIR/serve.prof and DIR/worker.prof (read with python -m pstats)",
    )
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    counts: list[int | None]
    if args.workers:
        counts = [int(n) for n in args.workers.split(",")]
    else:
        counts = [1] if args.store and is_postgres(args.store) else [None]
    if args.profile is not None and counts != [1]:
        parser.error("--profile needs --workers 1 (uvicorn's worker processes are not profiled)")
    if args.in_process and counts != [None]:
        parser.error("--in-process serves SQLite from this process: not with --workers/--store")
    outcomes = []
    for workers in counts:
        found = one_run(workers, args)
        found.report(args)
        outcomes.append((workers, found))
    if len(outcomes) > 1:
        first_workers, first = outcomes[0]
        print("summary:")
        for workers, found in outcomes:
            cpu = (found.server_cpu + found.database_cpu) * 1000 / max(found.done, 1)
            print(
                f"  --workers {workers}: {found.rate:.0f} labels/s"
                f" ({found.rate / max(first.rate, 1e-9):.2f}x --workers {first_workers}),"
                f" answer p99 {np.percentile(found.latencies['answer' if 'answer' in found.latencies else 'annotation'], 99):.1f} ms,"
                f" {cpu:.2f} ms CPU per label (server + database)"
            )


if __name__ == "__main__":
    main()
