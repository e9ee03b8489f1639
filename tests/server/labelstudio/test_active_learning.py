"""The backend does active learning with Label Studio: push, debounce, resync, no prefill.

Everything over real HTTP: the backend in uvicorn on a loopback port, and a small server that
answers the backend's API calls as Label Studio does
(:mod:`tests.server.labelstudio.fake_label_studio`). Annotations are made in that server and
announced with the webhooks Label Studio sends.
"""

from __future__ import annotations

import base64
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
from tests.server.labelstudio.test_images import CONFIG as IMAGE_CONFIG
from tests.server.labelstudio.test_images import DIGITS, data_uri

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
def backend(
    store_url: str,
    settings: BackendSettings,
    config: str = CONFIG,
    auth: tuple[str, str] | None = None,
) -> Iterator[httpx.Client]:
    """The backend in uvicorn on a free loopback port, connected to project 1 by /setup."""
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    served = uvicorn.Config(
        create_app(store_url, settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(served)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the backend did not start"
        time.sleep(0.02)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, auth=auth)
    try:
        setup = {"project": f"{PROJECT}.1764112345", "schema": config, "hostname": ""}
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


def annotate(
    client: httpx.Client, server: FakeLabelStudio, task_id: int, label: str
) -> dict[str, Any]:
    """Annotate in Label Studio and send its webhook; returns the webhook's answer.

    A webhook that waited for a held retrain would fail here: its answer has 10 s.
    """
    annotation = server.annotate(task_id, "sentiment", "text", label)
    body = {
        "action": "ANNOTATION_CREATED",
        "annotation": annotation,
        "task": server.tasks[task_id],
        "project": {**server.projects[PROJECT]},
    }
    response = client.post("/webhook", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


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


def test_webhooks_predict_and_setup_answer_while_a_retrain_is_held(
    label_studio: FakeLabelStudio, store_url: str
) -> None:
    with backend(store_url, connected(label_studio)) as client:
        annotate(client, label_studio, 1, "Positive")
        annotate(client, label_studio, 7, "Negative")
        wait_for(client, pushed_to("labelwise-1"))
        held = label_studio.gate("/api/tasks")  # the next refresh's resync waits here
        annotate(client, label_studio, 2, "Positive")
        annotate(client, label_studio, 8, "Negative")  # due: the trainer starts a refresh
        assert held.entered.wait(20), "the trainer never started the second refresh"
        # the trainer thread is inside the refresh until the gate opens: everything below
        # answers while it is held, so none of it waits for training
        answer = annotate(client, label_studio, 3, "Positive")
        assert answer["status"] == "queued" and answer["new_annotations"] == 1
        body = {"tasks": [label_studio.tasks[5]], "project": "1.1", "label_config": CONFIG}
        predicted = client.post("/predict", json=body, timeout=10)
        (result,) = predicted.json()["results"]
        assert result["model_version"] == "labelwise-1"  # the last model serves
        assert result["result"][0]["value"]["choices"][0] in ("Positive", "Negative")
        setup = {"project": "1.1764112345", "schema": CONFIG}
        assert client.post("/setup", json=setup, timeout=10).json() == {
            "model_version": "labelwise-1"
        }
        state = client.get("/health", timeout=10).json()["projects"]["1"]
        assert (state["state"], state["model_version"]) == ("training", "labelwise-1")
        assert not held.released
        held.release()
        after = wait_for(client, pushed_to("labelwise-2"))
        assert after["labeled_tasks"] == 5  # 1, 7, 2, 8 and 3 (its webhook came while held)


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


@pytest.mark.parametrize("expands", [True, False])
def test_the_resync_reads_whole_annotations(
    expands: bool, label_studio: FakeLabelStudio, store_url: str
) -> None:
    label_studio.expands = expands  # False: listed annotations are ids until asked for all
    label_studio.annotate(1, "sentiment", "text", "Positive")
    label_studio.annotate(7, "sentiment", "text", "Negative")
    with backend(store_url, connected(label_studio)) as client:
        state = wait_for(client, pushed_to("labelwise-1"))
    assert state["labeled_tasks"] == 2
    listings = [path for method, path in label_studio.requests if path == "/api/tasks"]
    assert len(listings) == (1 if expands else 2)


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


def _image_project(server: FakeLabelStudio) -> None:
    """Project 1 as an image project: 15 digit images, zeros (tasks 1-7) and ones (8-15)."""
    server.add_project(PROJECT, IMAGE_CONFIG)
    for k in range(1, 16):
        digit = 0 if k <= 7 else 1
        server.add_task(PROJECT, k, {"image": data_uri(DIGITS[digit][k])})


#: kind -> (label config, from_name, to_name, the labels of tasks 1, 2, 8, 9)
KINDS = {
    "text": (CONFIG, "sentiment", "text", ("Positive", "Positive", "Negative", "Negative")),
    "image": (IMAGE_CONFIG, "digit", "image", ("zero", "zero", "one", "one")),
}


def test_the_backend_gives_its_webhook_its_credentials_and_learns_from_start_training(
    label_studio: FakeLabelStudio, store_url: str
) -> None:
    user, password = "label-studio", "backend-secret-0123"
    settings = connected(label_studio, basic_auth_user=user, basic_auth_pass=password)
    with backend(store_url, settings, auth=(user, password)) as client:
        wait_for(client, lambda s: s["refreshes"] >= 1)  # the connect refresh: no webhook yet
        # as Label Studio does after /setup: the model connection, its webhook without headers
        hook = label_studio.connect_model(PROJECT, str(client.base_url), user)
        label_studio.annotate(1, "sentiment", "text", "Positive")  # its webhook is refused...
        refused = httpx.post(str(client.base_url) + "/webhook", json={"action": "x"})
        assert refused.status_code == 401
        # ... but START_TRAINING comes through the model connection, with the credentials
        body = {"action": "START_TRAINING", "project": {**label_studio.projects[PROJECT]}}
        assert client.post("/webhook", json=body).json()["status"] == "queued"
        state = wait_for(client, lambda s: s["labeled_tasks"] == 1 and s["state"] != "training")
        assert state["last_refresh"]["missed"] == 1  # learned by the resync
        secret = base64.b64encode(f"{user}:{password}".encode()).decode()
        assert hook["headers"] == {"Authorization": f"Basic {secret}"}
        # from now on annotations arrive by their own webhook: START_TRAINING is ignored
        assert client.post("/webhook", json=body).json()["status"] == "ignored"
        assert annotate(client, label_studio, 7, "Negative")["status"] == "queued"


def test_a_repeated_annotation_event_is_recorded_once(
    label_studio: FakeLabelStudio, store_url: str
) -> None:
    with backend(store_url, connected(label_studio)) as client:
        wait_for(client, pushed_to("labelwise-0"))
        annotate(client, label_studio, 1, "Positive")
        annotation = label_studio.tasks[1]["annotations"][0]
        body = {
            "action": "ANNOTATION_UPDATED",
            "annotation": annotation,
            "task": label_studio.tasks[1],
            "project": {**label_studio.projects[PROJECT]},
        }
        assert client.post("/webhook", json=body).json()["status"] == "unchanged"
        state = client.get("/health").json()["projects"]["1"]
        assert (state["revisions"], state["pending_annotations"]) == (1, 1)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("strategy", available_strategies())
def test_every_strategy_retrains_and_pushes(kind: str, strategy: str, store_url: str) -> None:
    config, from_name, to_name, labels = KINDS[kind]
    with fake_label_studio() as server:
        if kind == "image":
            _image_project(server)
        else:
            server.add_project(PROJECT, CONFIG)
            for k, text in enumerate(POSITIVE + NEGATIVE + NEUTRAL, start=1):
                server.add_task(PROJECT, k, {"text": text})
        for task_id, label in zip((1, 2, 8, 9), labels, strict=True):
            server.annotate(task_id, from_name, to_name, label)
        settings = connected(server, strategy=strategy, batch_size=3)  # model: what supplies it
        with backend(store_url, settings, config) as client:  # connecting resyncs the 4 labels
            state = wait_for(client, pushed_to("labelwise-1"), timeout=60)
        assert state["last_error"] is None
        assert state["labeled_tasks"] == 4
        pushed = server.pushed("labelwise-1")
        assert set(pushed) == set(server.tasks) - {1, 2, 8, 9}
        assert server.projects[PROJECT]["model_version"] == "labelwise-1"
        scores = sorted(p["score"] for p in pushed.values())
        assert scores[0] == 0.0 and all(0.0 <= s <= 1.0 for s in scores)
        assert len(set(scores)) >= min(3, settings.batch_size)  # an order, not one value
        choices = {p["result"][0]["value"]["choices"][0] for p in pushed.values()}
        assert choices <= set(labels)


def test_annotations_the_resync_learned_count_toward_the_next_retrain(
    label_studio: FakeLabelStudio, store_url: str
) -> None:
    # made before the backend connected: the connect refresh learns it, with one class no model
    label_studio.annotate(1, "sentiment", "text", "Positive")
    with backend(store_url, connected(label_studio)) as client:
        first = wait_for(client, lambda s: s["refreshes"] >= 1)
        assert first["last_refresh"]["missed"] == 1 and first["state"] == "no_model"
        annotate(client, label_studio, 7, "Negative")  # the second event of train_every=2
        state = wait_for(client, pushed_to("labelwise-1"), timeout=20)
        assert state["labeled_tasks"] == 2
