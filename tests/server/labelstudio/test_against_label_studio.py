"""Against a real Label Studio (``pip install label-studio`` into its own venv).

Set ``LABEL_STUDIO_URL`` (a running server started with the environment of LABELSTUDIO.md:
``ML_BLOCK_LOCAL_IP=false``, ``SSRF_PROTECTION_ENABLED=false``, legacy tokens on, and
``LABEL_STUDIO_HOST`` equal to ``LABEL_STUDIO_URL``) and ``LABEL_STUDIO_TOKEN``; or
``LABEL_STUDIO_BIN`` to the ``label-studio`` executable, and the test starts one itself (first
start: ~95 s of migrations). The backend runs with basic auth and that URL as its only Label
Studio, as a deployment should.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from benchmarks.label_studio_process import TOKEN, free_port, wait_http
from benchmarks.label_studio_process import label_studio as label_studio_process

from tests.server.labelstudio.conftest import CONFIG

pytestmark = pytest.mark.slow

BACKEND_USER, BACKEND_PASS = "label-studio", "backend-secret-0123"
TEXTS = [
    "a wonderful film, great acting",
    "awful, boring and a mess",
    "great story and wonderful music",
    "boring plot, awful dialogue",
    "the film is about a city",
    "wonderful, great, lovely",
]


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    url = os.environ.get("LABEL_STUDIO_URL")
    if url:
        yield url.rstrip("/"), os.environ.get("LABEL_STUDIO_TOKEN", TOKEN)
        return
    binary = os.environ.get("LABEL_STUDIO_BIN")
    if not binary:
        pytest.skip("set LABEL_STUDIO_BIN (the label-studio executable) or LABEL_STUDIO_URL")
    with label_studio_process(binary, tmp_path_factory.mktemp("label-studio"), 300) as (url, _):
        yield url, TOKEN


@pytest.fixture(scope="module")
def backend(
    tmp_path_factory: pytest.TempPathFactory, label_studio: tuple[str, str]
) -> Iterator[tuple[str, Any]]:
    import uvicorn

    from labelwise.server.labelstudio import BackendSettings, create_app

    folder: Path = tmp_path_factory.mktemp("backend")
    settings = BackendSettings(
        train_every=2,
        text_features="hashed",
        label_studio_url=label_studio[0],
        label_studio_token=label_studio[1],
        basic_auth_user=BACKEND_USER,
        basic_auth_pass=BACKEND_PASS,
    )
    app = create_app(f"sqlite:///{folder / 'ls.db'}", settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_http(f"http://127.0.0.1:{port}/health", 30)
    yield f"http://127.0.0.1:{port}", app.state.backend
    server.should_exit = True
    thread.join(10)


def _connected(api: Any, project: Any, backend_url: str, texts: list[str]) -> tuple[int, dict]:
    """The created ``project``'s id, connected to the backend with basic auth and given the
    tasks ``texts``; and each text's task id."""
    assert project.status_code == 201, project.text
    pid = int(project.json()["id"])
    connected = api.post(
        "/api/ml",
        json={
            "url": backend_url,
            "project": pid,
            "title": "labelwise",
            "auth_method": "BASIC_AUTH",
            "basic_auth_user": BACKEND_USER,
            "basic_auth_pass": BACKEND_PASS,
        },
    )
    assert connected.status_code == 201, connected.text
    imported = api.post(f"/api/projects/{pid}/import", json=[{"text": t} for t in texts])
    assert imported.status_code == 201, imported.text
    tasks = api.get("/api/tasks", params={"project": pid, "page_size": 100}).json()["tasks"]
    return pid, {task["data"]["text"]: task["id"] for task in tasks}


def test_label_studio_gets_scored_predictions_and_the_backend_trains(
    label_studio: tuple[str, str], backend: tuple[str, Any]
) -> None:
    import httpx

    ls_url, token = label_studio
    backend_url, state = backend
    api = httpx.Client(base_url=ls_url, headers={"Authorization": f"Token {token}"}, timeout=60)
    project = api.post(
        "/api/projects",
        json={
            "title": "labelwise test",
            "label_config": CONFIG,
            "sampling": "Uncertainty sampling",
            "start_training_on_annotation_update": True,
        },
    )
    pid, by_text = _connected(api, project, backend_url, TEXTS)
    for text, label in ((TEXTS[0], "Positive"), (TEXTS[1], "Negative")):
        saved = api.post(
            f"/api/tasks/{by_text[text]}/annotations",
            json={
                "result": [
                    {
                        "from_name": "sentiment",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": [label]},
                    }
                ]
            },
        )
        assert saved.status_code == 201, saved.text
    deadline = time.monotonic() + 60  # the retrain's push makes labelwise-1 the project's
    while api.get(f"/api/projects/{pid}").json()["model_version"] != "labelwise-1":
        assert time.monotonic() < deadline, str(state.health())
        time.sleep(0.5)
    predictions = api.get("/api/predictions", params={"project": pid}).json()
    scored = {p["task"]: p["score"] for p in predictions if p["model_version"] == "labelwise-1"}
    assert set(scored) == set(by_text.values()) - {by_text[TEXTS[0]], by_text[TEXTS[1]]}
    assert scored[by_text[TEXTS[4]]] < scored[by_text[TEXTS[5]]]  # the unrelated text first
    assert api.get(f"/api/projects/{pid}/next").json()["id"] == min(scored, key=scored.get)
    # the backend gave the project's webhook its credentials (Label Studio creates it bare)
    hooks = api.get("/api/webhooks/", params={"project": pid}).json()
    ours = [h for h in hooks if str(h["url"]).startswith(backend_url)]
    assert ours and all("Authorization" in (h.get("headers") or {}) for h in ours)


NER_TEXTS = [
    "Ada Lovelace visited London",
    "Alan Turing moved to Paris",
    "Grace Hopper lives in Berlin",
    "Marie Curie worked in Paris",
    "Linus Torvalds left Helsinki",
]


def _span_regions(text: str, spans: list[tuple[str, str]]) -> list[dict[str, Any]]:
    regions = []
    for i, (words, label) in enumerate(spans):
        start = text.index(words)
        value = {"start": start, "end": start + len(words), "text": words, "labels": [label]}
        regions.append(
            {
                "id": f"r{i}",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": value,
            }
        )
    return regions


def test_a_ner_project_gets_span_predictions_and_its_answers_train_the_tagger(
    label_studio: tuple[str, str], backend: tuple[str, Any]
) -> None:
    import httpx
    from benchmarks.labelstudio_ner import check_prediction, ner_config

    ls_url, token = label_studio
    backend_url, state = backend
    api = httpx.Client(base_url=ls_url, headers={"Authorization": f"Token {token}"}, timeout=60)
    project = api.post(
        "/api/projects",
        json={"title": "labelwise NER test", "label_config": ner_config(["LOC", "PER"])},
    )
    pid, by_text = _connected(api, project, backend_url, NER_TEXTS)
    gold = [
        (NER_TEXTS[0], [("Ada Lovelace", "PER"), ("London", "LOC")]),
        (NER_TEXTS[1], [("Alan Turing", "PER"), ("Paris", "LOC")]),
    ]
    for text, spans in gold:  # Label Studio's webhooks carry them to the backend
        saved = api.post(
            f"/api/tasks/{by_text[text]}/annotations", json={"result": _span_regions(text, spans)}
        )
        assert saved.status_code == 201, saved.text
    # a model of both answers (the first may have been trained on one), pushed to Label Studio
    deadline = time.monotonic() + 120
    while True:
        health = state.health().get(str(pid), {})
        version = health.get("model_version")
        ls_version = api.get(f"/api/projects/{pid}").json()["model_version"]
        learned = health.get("labeled_tasks") == 2 and not health.get("pending_annotations")
        if learned and health.get("state") == "ready" and version == ls_version:  # webhooks
            break
        assert time.monotonic() < deadline, str(health)
        time.sleep(0.5)
    predictions = [
        p
        for p in api.get("/api/predictions", params={"project": pid}).json()
        if p["model_version"] == version
    ]
    text_of = {task_id: text for text, task_id in by_text.items()}
    assert {p["task"] for p in predictions} == {by_text[t] for t in NER_TEXTS[2:]}
    for prediction in predictions:  # offsets, text, label and scores as Label Studio keeps them
        assert check_prediction(text_of[prediction["task"]], prediction, {"LOC", "PER"}) == []
    assert any(prediction["result"] for prediction in predictions)
    shown = api.get(f"/api/tasks/{by_text[NER_TEXTS[3]]}").json()["predictions"]
    assert any(p["model_version"] == version for p in shown)  # what the page loads
