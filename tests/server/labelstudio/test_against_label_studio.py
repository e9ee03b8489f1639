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
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.labelstudio.conftest import CONFIG

pytestmark = pytest.mark.slow

TOKEN = "0123456789abcdef0123456789abcdef01234567"
BACKEND_USER, BACKEND_PASS = "label-studio", "backend-secret-0123"
TEXTS = [
    "a wonderful film, great acting",
    "awful, boring and a mess",
    "great story and wonderful music",
    "boring plot, awful dialogue",
    "the film is about a city",
    "wonderful, great, lovely",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, seconds: float) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    url = os.environ.get("LABEL_STUDIO_URL")
    if url:
        yield url.rstrip("/"), os.environ.get("LABEL_STUDIO_TOKEN", TOKEN)
        return
    binary = os.environ.get("LABEL_STUDIO_BIN")
    if not binary:
        pytest.skip("set LABEL_STUDIO_BIN (the label-studio executable) or LABEL_STUDIO_URL")
    data = tmp_path_factory.mktemp("label-studio")
    port = _free_port()
    env = {
        **os.environ,
        "LABEL_STUDIO_USERNAME": "admin@example.com",
        "LABEL_STUDIO_PASSWORD": "adminpass123",
        "LABEL_STUDIO_USER_TOKEN": TOKEN,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "ML_BLOCK_LOCAL_IP": "false",
        "SSRF_PROTECTION_ENABLED": "false",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "LABEL_STUDIO_HOST": f"http://127.0.0.1:{port}",  # the hostname /setup sends
    }
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            "start",
            "--no-browser",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/health", 300)
        yield f"http://127.0.0.1:{port}", TOKEN
    finally:
        process.terminate()
        process.wait(30)
        log.close()


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
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait(f"http://127.0.0.1:{port}/health", 30)
    yield f"http://127.0.0.1:{port}", app.state.backend
    server.should_exit = True
    thread.join(10)


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
    assert project.status_code == 201, project.text
    pid = project.json()["id"]
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
    imported = api.post(f"/api/projects/{pid}/import", json=[{"text": t} for t in TEXTS])
    assert imported.status_code == 201, imported.text
    tasks = api.get("/api/tasks", params={"project": pid, "page_size": 100}).json()["tasks"]
    by_text = {task["data"]["text"]: task["id"] for task in tasks}
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
