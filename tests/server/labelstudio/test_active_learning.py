"""The backend does active learning with Label Studio: push, debounce, resync, no prefill.

Everything over real HTTP: the backend in uvicorn on a loopback port, and a small server that
answers the backend's API calls as Label Studio does
(:mod:`tests.server.labelstudio.fake_label_studio`). Annotations are made in that server and
announced with the webhooks Label Studio sends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from labelwise.server.labelstudio import BackendSettings, create_app
from labelwise.strategies import available_strategies
from tests.server.labelstudio.conftest import CONFIG
from tests.server.labelstudio.fake_label_studio import TOKEN, FakeLabelStudio, fake_label_studio

PROJECT = 1
POSITIVE = [
    "a wonderful, moving film with great acting",
    "great acting and a wonderful story",
    "a lovely, funny and wonderful film",
    "great music, great cast, a joy",
    "moving, lovely and great fun",
    "a wonderful joy from start to end",
]
NEGATIVE = [
    "a dull and awful mess, boring from start to end",
    "boring, awful, a mess",
    "an awful, dull and boring plot",
    "a mess of awful dialogue",
    "dull, boring and far too long",
    "awful acting in a boring mess",
]
NEUTRAL = ["the film is about a city", "it was shown on a tuesday", "the cast has five people"]


@pytest.fixture
def label_studio() -> Iterator[FakeLabelStudio]:
    with fake_label_studio() as server:
        server.add_project(PROJECT, CONFIG)
        for k, text in enumerate(POSITIVE + NEGATIVE + NEUTRAL, start=1):
            server.add_task(PROJECT, k, {"text": text})
        yield server


def connected(server: FakeLabelStudio, **changes: Any) -> BackendSettings:
    values: dict[str, Any] = {
        "train_every": 2,
        "train_delay": 60.0,
        "resync_every": 0.0,
        "text_features": "hashed",
        "label_studio_url": server.url,
        "label_studio_token": TOKEN,
    }
    return BackendSettings(**{**values, **changes})


@contextmanager
def backend(store_url: str, settings: BackendSettings) -> Iterator[httpx.Client]:
    """The backend in uvicorn on a free loopback port, connected to project 1 by /setup."""
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(store_url, settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the backend did not start"
        time.sleep(0.02)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        setup = {"project": f"{PROJECT}.1764112345", "schema": CONFIG, "hostname": ""}
        assert client.post("/setup", json=setup).status_code == 200
        yield client
    finally:
        client.close()
        server.should_exit = True
        thread.join(20)


def wait_for(client: httpx.Client, check: Callable[[dict[str, Any]], bool], timeout=30.0) -> dict:
    """Poll /health until ``check(project 1's state)`` holds; returns that state."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get("/health").json()["projects"].get(str(PROJECT), {})
        if state and check(state):
            return dict(state)
        assert time.monotonic() < deadline, f"still {state} after {timeout} s"
        time.sleep(0.05)


def annotate(client: httpx.Client, server: FakeLabelStudio, task_id: int, label: str) -> float:
    """Annotate in Label Studio and send its webhook; returns the webhook's response time."""
    annotation = server.annotate(task_id, "sentiment", "text", label)
    body = {
        "action": "ANNOTATION_CREATED",
        "annotation": annotation,
        "task": server.tasks[task_id],
        "project": {**server.projects[PROJECT]},
    }
    started = time.perf_counter()
    response = client.post("/webhook", json=body)
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return seconds


def pushed_to(version: str) -> Callable[[dict[str, Any]], bool]:
    return lambda state: state["pushed_version"] == version and state["state"] != "training"


def test_a_retrain_pushes_fresh_predictions_with_the_new_version(
    label_studio: FakeLabelStudio, store_url: str
) -> None:
    with backend(store_url, connected(label_studio)) as client:
        wait_for(client, pushed_to("labelwise-0"))  # connected: a cold ranking, scores only
        annotate(client, label_studio, 1, "Positive")
        annotate(client, label_studio, 7, "Negative")
        wait_for(client, pushed_to("labelwise-1"))
        pushed = label_studio.pushed("labelwise-1")
        assert label_studio.projects[PROJECT]["model_version"] == "labelwise-1"
        unlabeled = set(label_studio.tasks) - {1, 7}
        assert set(pushed) == unlabeled  # every unlabeled task, and no labeled one
        scores = sorted(p["score"] for p in pushed.values())
        n = len(unlabeled)
        assert scores == pytest.approx([r / (n - 1) for r in range(n)], abs=1e-6)  # by rank
        # the task served first (lowest score) is one the model is least sure of
        first = min(pushed, key=lambda t: pushed[t]["score"])
        assert first in (13, 14, 15), label_studio.tasks[first]["data"]
        # /predict answers the pushed score and version for the same task
        body = {"tasks": [label_studio.tasks[first]], "project": "1.1", "label_config": CONFIG}
        (answer,) = client.post("/predict", json=body).json()["results"]
        assert (answer["score"], answer["model_version"]) == (0.0, "labelwise-1")
        assert answer["result"] == pushed[first]["result"]
        imports = [r for r in label_studio.requests if r[1].endswith("/import/predictions")]
        assert len(imports) == 2  # one bulk request per push
        annotate(client, label_studio, 2, "Positive")
        annotate(client, label_studio, 8, "Negative")
        wait_for(client, pushed_to("labelwise-2"))
        assert set(label_studio.pushed("labelwise-2")) == unlabeled - {2, 8}
        assert label_studio.projects[PROJECT]["model_version"] == "labelwise-2"


def test_nothing_is_prefilled_before_a_model_exists(
    label_studio: FakeLabelStudio, store_url: str
) -> None:
    with backend(store_url, connected(label_studio)) as client:
        annotate(client, label_studio, 1, "Positive")
        annotate(client, label_studio, 2, "Positive")  # one class: nothing to tell apart
        client.post("/train", json={"project": PROJECT})
        state = wait_for(client, lambda s: s["refreshes"] >= 2 and s["state"] != "training")
        assert state["state"] == "no_model"
        assert label_studio.predictions  # a cold order was pushed ...
        assert all(p["result"] == [] for p in label_studio.predictions)  # ... with no choice
        body = {"tasks": [label_studio.tasks[3]], "project": "1.1", "label_config": CONFIG}
        (answer,) = client.post("/predict", json=body).json()["results"]
        assert answer["result"] == []


def test_a_burst_of_webhooks_costs_one_retrain(
    label_studio: FakeLabelStudio, store_url: str
) -> None:
    settings = connected(label_studio, train_every=100, train_delay=0.5)
    with backend(store_url, settings) as client:
        wait_for(client, pushed_to("labelwise-0"))
        for task_id, label in [(1, "Positive"), (7, "Negative"), (2, "Positive"), (8, "Negative")]:
            annotate(client, label_studio, task_id, label)
        for task_id, label in [(3, "Positive"), (9, "Negative"), (4, "Positive"), (10, "Negative")]:
            annotate(client, label_studio, task_id, label)
        state = wait_for(client, pushed_to("labelwise-1"))
        time.sleep(0.8)  # past the delay again: nothing more is due
        assert client.get("/versions").json()["versions"] == ["labelwise-1"]
        assert state["labeled_tasks"] == 8


def test_webhooks_predict_and_setup_answer_at_once_while_training_runs(
    label_studio: FakeLabelStudio, store_url: str
) -> None:
    label_studio.import_delay = 2.0  # each refresh holds the trainer for 2 s at least
    settings = connected(label_studio, train_every=1, train_delay=0.0)
    with backend(store_url, settings) as client:
        annotate(client, label_studio, 1, "Positive")
        wait_for(client, lambda s: s["state"] == "training")
        times = [
            annotate(client, label_studio, task_id, label)
            for task_id, label in [(7, "Negative"), (2, "Positive"), (8, "Negative")] * 1
        ]
        started = time.perf_counter()
        body = {"tasks": [label_studio.tasks[5]], "project": "1.1", "label_config": CONFIG}
        assert client.post("/predict", json=body).status_code == 200
        setup = {"project": "1.1764112345", "schema": CONFIG}
        assert client.post("/setup", json=setup).status_code == 200
        other = time.perf_counter() - started
        assert client.get("/health").json()["projects"]["1"]["state"] == "training"
    assert max(times) < 0.2, times
    assert other < 0.5, other


def test_a_restarted_backend_learns_what_it_missed_and_forgets_deletions(
    label_studio: FakeLabelStudio, store_url: str
) -> None:
    with backend(store_url, connected(label_studio)) as client:
        annotate(client, label_studio, 1, "Positive")
        annotate(client, label_studio, 7, "Negative")
        wait_for(client, pushed_to("labelwise-1"))
    # the backend is down: three annotations made, one earlier annotation deleted
    for task_id, label in [(2, "Positive"), (8, "Negative"), (3, "Positive")]:
        label_studio.annotate(task_id, "sentiment", "text", label)
    deleted = label_studio.tasks[1]["annotations"][0]["id"]
    label_studio.delete_annotation(deleted)
    with backend(store_url, connected(label_studio)) as client:
        state = wait_for(client, pushed_to("labelwise-2"))
        assert state["labeled_tasks"] == 4  # 7, 2, 8, 3: task 1 lost its only annotation
        revisions = state["revisions"]
        assert 1 in label_studio.pushed("labelwise-2")  # unlabeled again: ranked again
        client.post("/train", json={"project": PROJECT})  # a second resync finds nothing
        again = wait_for(client, lambda s: s["refreshes"] >= state["refreshes"] + 1)
        assert again["revisions"] == revisions
        assert client.get("/versions").json()["versions"] == ["labelwise-1", "labelwise-2"]


def test_an_updated_annotation_is_resynced(label_studio: FakeLabelStudio, store_url: str) -> None:
    with backend(store_url, connected(label_studio)) as client:
        annotate(client, label_studio, 1, "Positive")
        annotate(client, label_studio, 7, "Negative")
        wait_for(client, pushed_to("labelwise-1"))
        annotation = label_studio.tasks[1]["annotations"][0]
        annotation["result"][0]["value"]["choices"] = ["Negative"]  # changed, no webhook
        annotation["updated_at"] = "2025-11-27T00:00:00Z"
        label_studio.annotate(2, "sentiment", "text", "Positive")
        client.post("/train", json={"project": PROJECT})
        wait_for(client, pushed_to("labelwise-2"))
        backend_state = client.get("/health").json()["projects"]["1"]
        assert backend_state["labeled_tasks"] == 3


@pytest.mark.parametrize("strategy", available_strategies())
def test_every_strategy_retrains_and_pushes(
    strategy: str, label_studio: FakeLabelStudio, store_url: str
) -> None:
    for task_id, label in [(1, "Positive"), (2, "Positive"), (7, "Negative"), (8, "Negative")]:
        label_studio.annotate(task_id, "sentiment", "text", label)
    settings = connected(label_studio, strategy=strategy, batch_size=3)
    with backend(store_url, settings) as client:  # connecting resyncs the 4 annotations
        state = wait_for(client, pushed_to("labelwise-1"), timeout=60)
    assert state["last_error"] is None
    pushed = label_studio.pushed("labelwise-1")
    assert set(pushed) == set(label_studio.tasks) - {1, 2, 7, 8}
    scores = sorted(p["score"] for p in pushed.values())
    assert scores[0] == 0.0 and all(0.0 <= s <= 1.0 for s in scores)
    assert all(
        p["result"][0]["value"]["choices"][0] in ("Positive", "Negative") for p in pushed.values()
    )
