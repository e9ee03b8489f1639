"""What the service benchmarks share: a fresh store, the real ``labelwise`` processes, their CPU,
and the annotation page's requests.

- :func:`fresh_store_url`: a SQLite file in a folder, or a new PostgreSQL schema (dropped after).
- :func:`build_store`: a project of ``pool`` text samples, all queued, ``annotators`` annotators
  (token ``token-<k>``) and an admin (``admin-token``).
- :class:`Processes`: ``labelwise serve`` (``--workers N``) and ``labelwise worker`` started as the
  operator starts them, their readiness (``GET /health``) and their CPU time summed over every
  process (uvicorn's supervisor and API workers, the trainer), plus the PostgreSQL backends that
  served them (found by ``application_name``).
- :class:`Page`: one annotator's browser, sending what ``server/static/annotate.js`` sends.
"""

from __future__ import annotations

import csv
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

from labelwise.controller import Controller
from labelwise.store import (
    add_annotator,
    enqueue,
    import_samples,
    init_store,
    list_samples,
    record_round,
)
from labelwise.store.members import add_member

#: What a PostgreSQL connection of the benchmark's processes calls itself (``pg_stat_activity``).
APP_NAME = "labelwise-bench"
PROJECT = "bench"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


def _psycopg_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


@contextmanager
def fresh_store_url(server: str | None, folder: Path) -> Iterator[str]:
    """The URL of an empty store: a SQLite file in ``folder`` when ``server`` is None or
    SQLite, else a new schema ``labelwise_bench_<hex>`` on that PostgreSQL server, reached
    through ``search_path`` and dropped with everything in it afterwards."""
    if server is None or not is_postgres(server):
        yield server or f"sqlite:///{folder / 'bench.db'}"
        return
    import psycopg

    plain = _psycopg_url(server)
    schema = f"labelwise_bench_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in plain else "?"
    try:
        yield f"{plain}{joiner}options=-csearch_path%3D{schema}&application_name={APP_NAME}"
    finally:
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def build_store(
    url: str,
    folder: Path,
    pool: int,
    annotators: int,
    settings: dict[str, Any] | None = None,
) -> None:
    """A project ``bench`` of ``pool`` texts, every one queued by a first (random) round,
    ``annotators`` annotators ``a0..`` (token ``token-<k>``) in it and an admin
    (``admin-token``). ``settings``: loop settings of the project (``retrain_every``...)."""
    path = folder / "pool.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(
            [f"s{i}", f"sample text {i} {'good' if i % 2 else 'bad'}"] for i in range(pool)
        )
    store = init_store(url)
    try:
        t = time.perf_counter()
        import_samples(store, path, PROJECT, labels=["neg", "pos"])
        print(f"import {pool} samples: {time.perf_counter() - t:.1f} s")
        ids = [s.id for s in list_samples(store, PROJECT)]
        t = time.perf_counter()
        record_round(store, PROJECT, "random", batch_size=len(ids), create_version=False)
        enqueue(store, PROJECT, ids, np.random.default_rng(0).random(len(ids)).tolist(), 1)
        print(f"enqueue {pool} samples: {time.perf_counter() - t:.1f} s")
        if settings:
            Controller(store, PROJECT).configure(actor="bench", **settings)
        for k in range(annotators):
            add_annotator(store, f"a{k}", token=f"token-{k}")
            add_member(store, PROJECT, f"a{k}")
        add_annotator(store, "admin", role="admin", token="admin-token")
    finally:
        store.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def labelwise_command(*args: str, profile: Path | None = None) -> list[str]:
    """``labelwise ARGS`` with this interpreter (the project's venv); with ``profile``, under
    cProfile, which writes its statistics there when the process ends (SIGTERM)."""
    if profile is None:
        return [sys.executable, "-c", "from labelwise.cli import main; main()", *args]
    script = profile.with_suffix(".py")
    script.write_text("from labelwise.cli import main\nmain()\n")
    return [sys.executable, "-m", "cProfile", "-o", str(profile), str(script), *args]


def wait_ready(base: str, process: subprocess.Popen[bytes] | None, seconds: float = 240.0) -> float:
    """Seconds until ``GET base/health`` answers 200 (SystemExit if ``process`` dies first)."""
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while time.perf_counter() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return time.perf_counter() - t0
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"{base} did not answer /health within {seconds:.0f} s")


def _cpu(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def _tree(pid: int) -> list[int]:
    try:
        process = psutil.Process(pid)
        return [pid, *(child.pid for child in process.children(recursive=True))]
    except psutil.Error:
        return []


@dataclass
class Processes:
    """The service as an operator runs it: ``labelwise serve`` on ``port`` and, on PostgreSQL
    with ``trainer='worker'``, one ``labelwise worker``.

    ``serve`` alone on SQLite (it trains in a thread); on PostgreSQL ``--workers N
    --trainer worker`` and the worker process. Output goes to ``log``'s files.
    """

    url: str
    workers: int
    port: int
    log: Path
    trainer: bool = True
    #: Where to write the cProfile statistics of ``serve`` (one process) and ``worker``.
    profile: Path | None = None
    serve: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    _files: list[Any] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        out = (self.log / f"{name}.log").open("ab")
        self._files.append(out)
        profile = None if self.profile is None else self.profile / f"{name.split('-')[0]}.prof"
        command = labelwise_command(*args, profile=profile)
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    def start_serve(self) -> subprocess.Popen[bytes]:
        args = ["serve", "--store", self.url, "--port", str(self.port)]
        if is_postgres(self.url):
            args += ["--workers", str(self.workers), "--trainer", "worker"]
        self.serve = self._spawn(f"serve-{self.port}", args)
        return self.serve

    def start_worker(self) -> subprocess.Popen[bytes]:
        args = ["worker", "--store", self.url, "--poll-seconds", "0.5", "--claim-seconds", "0.5"]
        self.worker = self._spawn("worker", args)
        return self.worker

    def start(self) -> float:
        """Start every process; seconds until the API answers."""
        if is_postgres(self.url) and self.trainer:
            self.start_worker()
        process = self.start_serve()
        try:
            return wait_ready(self.base, process)
        except SystemExit:
            for path in sorted(self.log.glob("*.log")):
                print(f"--- {path.name}:\n{path.read_text()[-3000:]}", file=sys.stderr)
            raise

    def pids(self) -> dict[int, str]:
        """Every process of the service now, with its role: ``api`` for serve (uvicorn's
        supervisor and API workers), ``trainer`` for the worker."""
        found: dict[int, str] = {}
        for process, role in ((self.serve, "api"), (self.worker, "trainer")):
            if process is not None and process.poll() is None:
                found.update(dict.fromkeys(_tree(process.pid), role))
        return found

    def backend_pids(self) -> list[int]:
        """The PostgreSQL server processes serving the benchmark's connections now."""
        if not is_postgres(self.url):
            return []
        import psycopg

        plain = self.url.split("?")[0]
        with psycopg.connect(plain, autocommit=True) as admin:
            rows = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APP_NAME,)
            ).fetchall()
        return [int(pid) for (pid,) in rows]

    def cpu(self) -> dict[int, float]:
        """CPU seconds (user + system) so far of every service process (key: pid)."""
        return {pid: _cpu(pid) for pid in self.pids()}

    def backend_cpu(self) -> dict[int, float]:
        return {pid: _cpu(pid) for pid in self.backend_pids()}

    def stop(self) -> None:
        for process in (self.serve, self.worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.serve, self.worker):
            if process is not None:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    for pid in reversed(_tree(process.pid)):
                        os.kill(pid, signal.SIGKILL)
                    process.wait(5)
        for out in self._files:
            out.close()


def cpu_spent(
    before: dict[int, float], after: dict[int, float], roles: dict[int, str] | None = None
) -> dict[str, float]:
    """CPU seconds spent between two :meth:`Processes.cpu` readings, per role of ``roles``
    (default: all under ``all``); a process that started in between counts from zero, one
    that ended in between is lost."""
    spent: dict[str, float] = {}
    for pid, seconds in after.items():
        role = "all" if roles is None else roles.get(pid, "other")
        spent[role] = spent.get(role, 0.0) + seconds - before.get(pid, 0.0)
    return spent


#: Seconds between the page's lease heartbeats while a task is open (annotate.js HEARTBEAT_MS).
HEARTBEAT_SECONDS = 30.0
#: Seconds between the page's reads of the model's state (annotate.js MODEL_MS).
MODEL_SECONDS = 10.0
#: Seconds the page waits before asking again after an empty queue (annotate.js).
EMPTY_WAIT_SECONDS = 2.0


class Page:
    """One annotator's annotation page (``server/static/annotate.js``), its requests timed by
    name into ``out`` (``out["errors"]``: statuses >= 400; ``out["no_task"]``: times a next
    task came back empty)."""

    def __init__(self, client: httpx.Client, out: dict[str, list[float]], project: str) -> None:
        self.client = client
        self.out = out
        self.path = f"/api/projects/{project}"
        self.task: dict[str, Any] | None = None
        self.shown = 0.0
        self.model_round: object = None
        self.model_at = 0.0
        self.retry_at: float | None = None
        #: Refused requests: "status METHOD url: reply".
        self.failures: list[str] = []
        #: Answers the server acknowledged (201): (annotation id, task id, label).
        self.acknowledged: list[tuple[int, int, str]] = []

    def send(self, name: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        t0 = time.perf_counter()
        response = self.client.request(method, url, **kwargs)
        self.out.setdefault(name, []).append(time.perf_counter() - t0)
        if response.status_code >= 400:
            self.out["errors"].append(float(response.status_code))
            self.failures.append(f"{response.status_code} {method} {url}: {response.text[:160]}")
        return response

    # what annotate.js does, function by function --------------------------------------
    def sign_in(self) -> None:
        """signIn + chooseProject: me, projects, the model's state, then nextTask."""
        self.send("me", "GET", "/api/me")
        self.send("projects", "GET", "/api/projects")
        self.refresh_model()
        self.next_task()

    def show(self, task: dict[str, Any] | None) -> None:
        """A task in view, its suggestion as it came with the task (no request)."""
        self.task = task
        self.shown = time.perf_counter()
        if task is None:
            self.out["no_task"].append(self.shown)
            self.retry_at = self.shown + EMPTY_WAIT_SECONDS
            return
        self.retry_at = None

    def next_task(self) -> None:
        response = self.send("next", "POST", f"{self.path}/next")
        self.show(response.json()["task"] if response.status_code == 200 else None)
        self.send("progress", "GET", f"{self.path}/progress")

    def refresh_model(self) -> None:
        """Every 10 s; a new round brings the progress and the suggestion again."""
        self.model_at = time.perf_counter()
        found = self.send("model", "GET", f"{self.path}/model").json().get("round")
        retrained = self.model_round is not None and found != self.model_round
        self.model_round = found
        if retrained:
            self.send("progress", "GET", f"{self.path}/progress")
            if self.task is not None:  # the new model's suggestion, served and kept
                self.send("guess", "POST", f"/api/tasks/{self.task['task_id']}/guess")

    def answer(self, label: str) -> httpx.Response:
        """One label: the answer brings the next task and the progress back."""
        assert self.task is not None
        seconds = time.perf_counter() - self.shown
        body = {"label": label, "seconds_spent": seconds}
        response = self.send(
            "answer", "POST", f"/api/tasks/{self.task['task_id']}/answer", json=body
        )
        if response.status_code == 201:
            self.out["done"].append(time.perf_counter())
            done = response.json()
            self.acknowledged.append((int(done["annotation_id"]), int(done["task_id"]), label))
            self.show(done["next"]["task"])
            if done.get("progress") is None:
                self.send("progress", "GET", f"{self.path}/progress")
        else:  # the page shows the error; the annotator reloads: a next task
            self.next_task()
        return response

    def tick(self) -> None:
        """The page's timers that are due: model state, heartbeat, retry after no task."""
        now = time.perf_counter()
        if now - self.model_at >= MODEL_SECONDS:
            self.refresh_model()
        if self.task is not None and now - self.shown >= HEARTBEAT_SECONDS:
            self.shown = now
            self.send("lease", "POST", f"/api/tasks/{self.task['task_id']}/lease")
        if self.task is None and self.retry_at is not None and now >= self.retry_at:
            self.next_task()

    def label_until(self, until: float, label: str = "pos") -> None:
        """Sign in, then label as fast as the server answers until ``until``."""
        self.sign_in()
        while time.perf_counter() < until:
            self.tick()
            if self.task is None:
                time.sleep(0.05)
                continue
            self.answer(label)
