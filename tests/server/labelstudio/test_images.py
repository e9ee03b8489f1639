"""Image classification projects: images fetched as Label Studio hands them over, digits learned.

A real HTTP server on 127.0.0.1 plays Label Studio's file storage: it serves PNGs made from
scikit-learn's bundled digits under ``/data/upload/1/`` and only with the right
``Authorization: Token`` header, as Label Studio does.
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from labelwise.server.labelstudio import BackendSettings, create_app
from labelwise.stream.image_features import pixel_features
from tests.server.labelstudio.conftest import settle

TOKEN = "ls-token-0123456789"
PROJECT = "3.1764112345"
CONFIG = (
    '<View>\n  <Image name="image" value="$image" zoom="true"/>\n'
    '  <Choices name="digit" toName="image" choice="single">\n'
    '    <Choice value="zero"/>\n    <Choice value="one"/>\n  </Choices>\n</View>'
)


def _digits() -> dict[int, list[np.ndarray]]:
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images * (255 / 16)).round().astype(np.uint8)
    return {k: [images[i] for i in np.flatnonzero(data.target == k)] for k in (0, 1)}


DIGITS = _digits()


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def data_uri(pixels: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png(pixels)).decode()


class FileServer:
    """Label Studio's file storage: ``files[path]`` for requests with the right token."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                auth = self.headers.get("Authorization")
                owner.requests.append((self.path, auth))
                body = owner.files.get(self.path)
                status = 200 if auth == f"Token {TOKEN}" else 401
                status = 404 if status == 200 and body is None else status
                self.send_response(status)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(body if status == 200 and body is not None else b"no")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, name: str, body: bytes) -> str:
        path = f"/data/upload/1/{name}"
        self.files[path] = body
        return path

    def images(self) -> list[tuple[str, str | None]]:
        """The image requests (/setup also reads /api/projects/<id> with the token)."""
        return [(path, auth) for path, auth in self.requests if path.startswith("/data/")]

    def fetched(self) -> list[str]:
        return [path for path, _ in self.images()]


@pytest.fixture
def server() -> Iterator[FileServer]:
    files = FileServer()
    yield files
    files.httpd.shutdown()
    files.httpd.server_close()


def settings(server: FileServer, **changes: Any) -> BackendSettings:
    """The backend's settings, with ``server`` as the Label Studio it may fetch from."""
    values = {"train_every": 2, "train_delay": 60.0, "label_studio_url": server.url}
    return BackendSettings(**{**values, **changes})


@pytest.fixture
def client(store_url: str, server: FileServer) -> Iterator[TestClient]:
    with TestClient(create_app(store_url, settings(server))) as test_client:
        test_client.post("/setup", json=setup_body(server.url))
        yield test_client


def setup_body(hostname: str) -> dict[str, Any]:
    return {
        "project": PROJECT,
        "schema": CONFIG,
        "hostname": hostname,
        "access_token": TOKEN,
        "extra_params": "",
    }


def task(task_id: int, image: str) -> dict[str, Any]:
    return {
        "id": task_id,
        "data": {"image": image},
        "meta": {},
        "annotations": [],
        "predictions": [],
        "project": 3,
        "inner_id": task_id,
        "file_upload": None,
    }


def predict(client: TestClient, tasks: list[dict[str, Any]]) -> Any:
    body = {"tasks": tasks, "project": PROJECT, "label_config": CONFIG, "params": {}}
    return client.post("/predict", json=body)


def annotate(client: TestClient, task_id: int, image: str, label: str) -> dict[str, Any]:
    body = {
        "action": "ANNOTATION_CREATED",
        "annotation": {
            "id": 1000 + task_id,
            "result": [
                {
                    "id": "r1",
                    "type": "choices",
                    "value": {"choices": [label]},
                    "origin": "manual",
                    "to_name": "image",
                    "from_name": "digit",
                }
            ],
            "was_cancelled": False,
            "task": task_id,
            "project": 3,
        },
        "task": task(task_id, image),
        "project": {"id": 3, "label_config": CONFIG, "model_version": "labelwise"},
    }
    response = client.post("/webhook", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def train_on_digits(client: TestClient, server: FileServer, per_class: int = 12) -> None:
    for k, name in ((0, "zero"), (1, "one")):
        for i in range(per_class):
            task_id = 100 * (k + 1) + i
            path = server.add(f"{task_id}.png", png(DIGITS[k][i]))
            annotate(client, task_id, path, name)


def test_image_predictions_have_the_wire_format(client: TestClient, server: FileServer) -> None:
    paths = [server.add(f"{i}.png", png(DIGITS[i % 2][i])) for i in range(3)]
    response = predict(client, [task(i + 1, path) for i, path in enumerate(paths)])
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 3
    for entry in results:
        assert set(entry) == {"result", "score", "model_version"}
        assert entry["result"] == []  # no model yet: nothing pre-filled
        assert entry["score"] == 1.0
        assert entry["model_version"] == "labelwise"
    # the images are fetched anyway (checked, and cached for the first model)
    assert server.images() == [(path, f"Token {TOKEN}") for path in paths]
    train_on_digits(client, server, per_class=2)
    settle(client)
    results = predict(client, [task(i + 1, path) for i, path in enumerate(paths)]).json()
    for entry in results["results"]:
        assert entry["result"] == [
            {
                "from_name": "digit",
                "to_name": "image",
                "type": "choices",
                "value": {"choices": [entry["result"][0]["value"]["choices"][0]]},
            }
        ]
        assert entry["result"][0]["value"]["choices"][0] in ("zero", "one")


def test_training_on_digits_orders_the_most_uncertain_first(
    client: TestClient, server: FileServer
) -> None:
    train_on_digits(client, server)
    settle(client)
    assert client.get("/versions").json()["versions"]  # debounced: fewer models than labels
    clean = [(0, DIGITS[0][i]) for i in range(30, 35)] + [(1, DIGITS[1][i]) for i in range(30, 35)]
    blends = [
        ((DIGITS[0][i].astype(float) + DIGITS[1][i]) / 2).round().astype(np.uint8)
        for i in range(40, 43)
    ]
    tasks = [task(500 + i, data_uri(pixels)) for i, (_, pixels) in enumerate(clean)]
    tasks += [task(600 + i, data_uri(pixels)) for i, pixels in enumerate(blends)]
    results = predict(client, tasks).json()["results"]
    choices = [entry["result"][0]["value"]["choices"][0] for entry in results]
    assert choices[:10] == ["zero"] * 5 + ["one"] * 5
    scores = np.array([entry["score"] for entry in results])
    # Label Studio serves the lowest score first: the three ambiguous blends lead the queue
    assert set(np.argsort(scores, kind="stable")[:3]) == {10, 11, 12}
    assert server.fetched().count("/data/upload/1/100.png") == 1  # data URIs fetch nothing


def test_features_are_cached_per_task_until_its_data_changes(
    client: TestClient, server: FileServer
) -> None:
    first = server.add("a.png", png(DIGITS[0][0]))
    second = server.add("b.png", png(DIGITS[1][0]))
    predict(client, [task(7, first)])
    predict(client, [task(7, first)])
    annotate(client, 7, first, "zero")
    assert server.fetched() == [first]
    predict(client, [task(7, second)])
    assert server.fetched() == [first, second]


def test_images_are_fetched_from_the_label_studio_host_only(
    client: TestClient, server: FileServer
) -> None:
    path = server.add("c.png", png(DIGITS[0][1]))
    on_host = predict(client, [task(1, server.url + path)])
    assert on_host.status_code == 200
    elsewhere = server.url.replace("127.0.0.1", "localhost") + path
    response = predict(client, [task(5, elsewhere)])
    assert response.status_code == 403
    assert "task 5" in response.json()["detail"]
    assert "not on this backend's Label Studio" in response.json()["detail"]
    assert server.images() == [(path, f"Token {TOKEN}")]  # nothing asked for task 5


def test_images_that_cannot_be_had_get_a_clear_error_naming_the_task(
    client: TestClient, server: FileServer
) -> None:
    broken = server.add("broken.png", b"\x89PNG\r\n\x1a\n truncated")
    cases = {
        9: (broken, 422, "not a decodable image"),
        10: ("/data/upload/1/missing.png", 502, "HTTP 404"),
        11: ("data:image/png;base64,@@@", 422, "not valid base64"),
        12: ("s3://bucket/x.png", 422, "fetches no other kind"),
        13: ("", 422, "has no image"),
    }
    for task_id, (value, status, message) in cases.items():
        response = predict(client, [task(task_id, value)])
        assert response.status_code == status, (task_id, response.text)
        assert f"task {task_id}" in response.json()["detail"]
        assert message in response.json()["detail"]


def test_a_server_path_needs_a_configured_label_studio_url(
    store_url: str, server: FileServer
) -> None:
    with TestClient(create_app(store_url)) as client:
        client.post("/setup", json=setup_body(server.url))
        response = predict(client, [task(4, "/data/upload/1/x.png")])
    assert response.status_code == 422
    assert "no Label Studio URL" in response.json()["detail"]
    assert server.requests == []


def test_local_files_are_read_under_the_document_root_only(store_url: str, tmp_path: Path) -> None:
    (tmp_path / "root" / "digits").mkdir(parents=True)
    (tmp_path / "root" / "digits" / "z.png").write_bytes(png(DIGITS[0][2]))
    (tmp_path / "secret.png").write_bytes(png(DIGITS[1][2]))
    settings = BackendSettings(local_files_root=str(tmp_path / "root"))
    with TestClient(create_app(store_url, settings)) as client:
        inside = predict(client, [task(1, "/data/local-files/?d=digits/z.png")])
        outside = predict(client, [task(2, "/data/local-files/?d=../secret.png")])
    assert inside.status_code == 200
    assert outside.status_code == 422
    assert "task 2" in outside.json()["detail"]


def test_a_restarted_backend_retrains_from_the_store_without_fetching(
    store_url: str, server: FileServer
) -> None:
    probe = [task(900 + i, data_uri(DIGITS[i % 2][50 + i])) for i in range(4)]
    with TestClient(create_app(store_url, settings(server))) as first:
        first.post("/setup", json=setup_body(server.url))
        train_on_digits(first, server, per_class=4)
        settle(first)
        before = predict(first, probe).json()
    fetched = len(server.images())
    with TestClient(create_app(store_url, settings(server))) as second:
        second.post("/setup", json=setup_body(server.url))
        settle(second)  # the stored model is refitted in the background
        after = predict(second, probe).json()
    assert after == before
    assert len(server.images()) == fetched  # features come from the store


def test_the_features_hook_replaces_the_pixels(store_url: str, server: FileServer) -> None:
    calls: list[int] = []

    def coarse(image: bytes) -> np.ndarray:
        calls.append(len(image))
        return pixel_features(image, side=4)

    with TestClient(create_app(store_url, settings(server, image_features=coarse))) as client:
        client.post("/setup", json=setup_body(server.url))
        train_on_digits(client, server, per_class=2)
        settle(client)
        engine = client.app.state.backend.project(3).engine  # type: ignore[attr-defined]
    assert len(calls) == 4
    assert engine.model.estimator_.n_features_in_ == 16
