"""Attacks on the ML backend, over real HTTP: no credentials, other hosts, forged webhooks.

The backend runs in uvicorn on a free loopback port. A small HTTP server plays Label Studio
(the one host the backend is configured with); a second one plays "another host" and records
every request that reaches it, so a test can say that nothing did.
"""

from __future__ import annotations

import base64
import io
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio import BackendSettings, BasicAuth, create_app
from labelwise.server.labelstudio.images import ImageFetchError, ImageSource, fetch_image
from labelwise.server.labelstudio.security import exposure_warning
from tests.server.labelstudio.conftest import (
    annotation_created,
    predict_body,
    project_object,
    setup_body,
    task,
)

USER, PASSWORD = "label-studio", "s3cret-pass-0123"
CREDENTIALS = (USER, PASSWORD)
TOKEN = "ls-token-0123456789"
IMAGE_CONFIG = (
    '<View><Image name="image" value="$image"/><Choices name="digit" toName="image">'
    '<Choice value="zero"/><Choice value="one"/></Choices></View>'
)
IMAGE_PROJECT = "3.1764112345"
BODY_LIMIT = 64 * 1024


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@dataclass
class Route:
    """What a stand-in server answers on one path."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = PNG
    drip_seconds: float = 0.0  # > 0: send the body one byte at a time, this far apart
    declare_length: bool = True  # False: no Content-Length, the body ends when the server closes


class StandIn:
    """A real HTTP server on 127.0.0.1 that answers ``routes`` and records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                owner.requests.append((self.command, self.path, self.headers.get("Authorization")))
                route = owner.routes.get(self.path, Route(404, body=b"not here"))
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.declare_length and "Content-Length" not in route.headers:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if route.drip_seconds:
                    for byte in route.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(route.drip_seconds)
                else:
                    self.wfile.write(route.body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def label_studio() -> Iterator[StandIn]:
    server = StandIn()
    server.routes["/api/projects/3"] = Route(
        headers={"Content-Type": "application/json"}, body=b'{"model_version": "labelwise"}'
    )
    yield server
    server.close()


@pytest.fixture
def other_host() -> Iterator[StandIn]:
    server = StandIn()
    server.routes["/x.png"] = Route()
    yield server
    server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(store_url: str, settings: BackendSettings) -> Iterator[str]:
    """The backend app in uvicorn on a free loopback port; yields its base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        create_app(store_url, settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the backend did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def secured(label_studio: StandIn, **changes: Any) -> BackendSettings:
    values: dict[str, Any] = {
        "train_every": 2,
        "train_delay": 60.0,
        "text_features": "hashed",
        "basic_auth_user": USER,
        "basic_auth_pass": PASSWORD,
        "label_studio_url": label_studio.url,
        "max_body_bytes": BODY_LIMIT,
    }
    return BackendSettings(**{**values, **changes})


@pytest.fixture
def backend(store_url: str, label_studio: StandIn) -> Iterator[str]:
    with serving(store_url, secured(label_studio)) as url:
        yield url


def snapshot(store_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the SQLite store, to compare before and after."""
    path = store_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            table: sorted(db.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }


def image_task(task_id: int, image: str) -> dict[str, Any]:
    return {"id": task_id, "data": {"image": image}, "annotations": [], "predictions": []}


def image_predict(url: str, image: str) -> httpx.Response:
    body = {
        "tasks": [image_task(5, image)],
        "project": IMAGE_PROJECT,
        "label_config": IMAGE_CONFIG,
        "params": {},
    }
    return httpx.post(f"{url}/predict", json=body, auth=CREDENTIALS)


def image_setup(url: str, hostname: str) -> httpx.Response:
    body = {"project": IMAGE_PROJECT, "schema": IMAGE_CONFIG, "hostname": hostname}
    return httpx.post(f"{url}/setup", json={**body, "access_token": TOKEN}, auth=CREDENTIALS)


# -- authentication -------------------------------------------------------------------------------
PROTECTED = [
    ("POST", "/setup", setup_body()),
    ("POST", "/predict", predict_body([task(1, "great")])),
    ("POST", "/webhook", annotation_created(1, "great", "Positive", 11)),
    ("POST", "/train", {"project": 1}),
    ("GET", "/versions", None),
    ("GET", "/docs", None),
    ("GET", "/openapi.json", None),
    ("GET", "/no-such-route", None),
]


def test_every_route_but_health_needs_credentials(backend: str, store_url: str) -> None:
    before = snapshot(store_url)
    for method, path, body in PROTECTED:
        response = httpx.request(method, backend + path, json=body)
        assert response.status_code == 401, (path, response.text)
        assert response.headers["www-authenticate"].startswith("Basic realm=")
        assert "needs HTTP basic auth" in response.json()["detail"]
    for path in ("/health", "/"):
        response = httpx.get(backend + path)
        assert response.status_code == 200
        assert response.json()["status"] == "UP"
    assert snapshot(store_url) == before


def test_wrong_credentials_are_refused(backend: str) -> None:
    headers = [
        "Basic " + base64.b64encode(f"{USER}:guess".encode()).decode(),
        "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode(),
        "Basic " + base64.b64encode(f"{USER}:{PASSWORD}x".encode()).decode(),
        "Basic " + base64.b64encode(f"{USER}{PASSWORD}".encode()).decode(),
        "Basic !!not-base64!!",
        f"Bearer {PASSWORD}",
        f"Token {USER}:{PASSWORD}",
    ]
    for header in headers:
        response = httpx.post(
            f"{backend}/setup", json=setup_body(), headers={"Authorization": header}
        )
        assert response.status_code == 401, header
        assert response.json()["detail"] == (
            "wrong username or password for this Label Studio ML backend"
        )


def test_right_credentials_connect_predict_and_train(backend: str) -> None:
    client = httpx.Client(base_url=backend, auth=CREDENTIALS)
    assert client.post("/setup", json=setup_body()).json() == {"model_version": "labelwise"}
    first = client.post("/webhook", json=annotation_created(1, "great fun", "Positive", 11))
    assert first.json()["status"] == "queued"
    second = client.post("/webhook", json=annotation_created(2, "awful mess", "Negative", 12))
    assert second.json()["new_annotations"] == 2
    deadline = time.monotonic() + 30
    while client.get("/health").json()["projects"]["1"]["state"] != "ready":
        assert time.monotonic() < deadline, "no model after 30 s"
        time.sleep(0.05)
    results = client.post("/predict", json=predict_body([task(3, "great")])).json()["results"]
    assert results[0]["result"][0]["value"]["choices"] == ["Positive"]
    assert client.get("/versions").json()["versions"] == ["labelwise-1"]


def test_an_open_backend_warns_only_off_loopback() -> None:
    assert exposure_warning("127.0.0.1", None) is None
    assert exposure_warning("::1", None) is None
    assert exposure_warning("localhost", None) is None
    warning = exposure_warning("0.0.0.0", None)
    assert warning is not None and "without authentication" in warning
    assert exposure_warning("0.0.0.0", BasicAuth(USER, PASSWORD)) is None


def test_half_configured_security_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="both a username and a password"):
        BackendSettings(basic_auth_user=USER)
    with pytest.raises(InvalidInputError, match="needs the Label Studio URL"):
        BackendSettings(label_studio_token=TOKEN)
    with pytest.raises(InvalidInputError, match="without credentials"):
        BackendSettings(label_studio_url="http://user:pw@127.0.0.1:8080")
    with pytest.raises(InvalidInputError, match="http"):
        BackendSettings(label_studio_url="file:///etc/passwd")
    assert PASSWORD not in repr(BackendSettings(basic_auth_user=USER, basic_auth_pass=PASSWORD))


# -- requests leave only for the configured Label Studio -----------------------------------------
def test_setup_naming_another_host_is_refused_and_nothing_is_sent(
    backend: str, store_url: str, label_studio: StandIn, other_host: StandIn
) -> None:
    before = snapshot(store_url)
    response = image_setup(backend, other_host.url)
    assert response.status_code == 403
    assert other_host.url in response.json()["detail"]
    assert label_studio.url in response.json()["detail"]
    assert other_host.requests == []
    assert label_studio.requests == []
    assert snapshot(store_url) == before


def test_setup_naming_the_label_studio_host_in_another_spelling_is_accepted(
    backend: str, label_studio: StandIn
) -> None:
    port = label_studio.url.rsplit(":", 1)[1]
    response = image_setup(backend, f"HTTP://127.0.0.1:{port}/")
    assert response.status_code == 200, response.text
    assert label_studio.requests == [("GET", "/api/projects/3", f"Token {TOKEN}")]


def test_an_image_on_another_host_is_refused_unfetched(
    backend: str, label_studio: StandIn, other_host: StandIn
) -> None:
    assert image_setup(backend, label_studio.url).status_code == 200
    response = image_predict(backend, f"{other_host.url}/x.png")
    assert response.status_code == 403
    assert "task 5's image" in response.json()["detail"]
    assert other_host.requests == []


def test_a_redirect_to_another_host_is_refused_unfetched(
    backend: str, label_studio: StandIn, other_host: StandIn
) -> None:
    label_studio.routes["/data/upload/3/away.png"] = Route(
        302, headers={"Location": f"{other_host.url}/x.png"}, body=b""
    )
    assert image_setup(backend, label_studio.url).status_code == 200
    response = image_predict(backend, "/data/upload/3/away.png")
    assert response.status_code == 403
    assert other_host.url in response.json()["detail"]
    assert ("GET", "/data/upload/3/away.png", f"Token {TOKEN}") in label_studio.requests
    assert other_host.requests == []


def test_a_redirect_on_the_label_studio_host_is_followed(
    backend: str, label_studio: StandIn
) -> None:
    label_studio.routes["/data/upload/3/old.png"] = Route(
        301, headers={"Location": "/data/upload/3/new.png"}, body=b""
    )
    label_studio.routes["/data/upload/3/new.png"] = Route()
    assert image_setup(backend, label_studio.url).status_code == 200
    response = image_predict(backend, "/data/upload/3/old.png")
    assert response.status_code == 200, response.text
    assert [path for _, path, _ in label_studio.requests][-2:] == [
        "/data/upload/3/old.png",
        "/data/upload/3/new.png",
    ]


def test_without_a_configured_url_no_request_leaves(
    store_url: str, label_studio: StandIn, other_host: StandIn
) -> None:
    with serving(store_url, secured(label_studio, label_studio_url=None)) as url:
        assert image_setup(url, other_host.url).status_code == 200  # hostname ignored
        on_path = image_predict(url, "/data/upload/3/x.png")
        elsewhere = image_predict(url, f"{other_host.url}/x.png")
        inline = image_predict(url, "data:image/png;base64," + base64.b64encode(PNG).decode())
    assert on_path.status_code == 422
    assert "no Label Studio URL" in on_path.json()["detail"]
    assert elsewhere.status_code == 403
    assert "no Label Studio URL configured" in elsewhere.json()["detail"]
    assert inline.status_code == 200
    assert other_host.requests == []
    assert label_studio.requests == []


def test_an_image_over_the_size_limit_is_cut_off(label_studio: StandIn) -> None:
    big = PNG + b"\0" * 4096
    label_studio.routes["/declared.png"] = Route(body=big)
    label_studio.routes["/undeclared.png"] = Route(body=big, declare_length=False)
    label_studio.routes["/small.png"] = Route(declare_length=False)
    source = ImageSource(label_studio.url, TOKEN, max_bytes=1024)
    for path in ("/declared.png", "/undeclared.png"):
        with pytest.raises(ImageFetchError, match="over 1024 bytes"):
            fetch_image(path, source, 1)
    assert fetch_image("/small.png", source, 1) == PNG


def test_an_image_that_streams_past_the_time_limit_is_cut_off(label_studio: StandIn) -> None:
    label_studio.routes["/slow.png"] = Route(
        body=b"x" * 100, drip_seconds=0.05, declare_length=False
    )
    source = ImageSource(label_studio.url, TOKEN, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ImageFetchError, match=r"took over 1\.0 s"):
        fetch_image("/slow.png", source, 1)
    assert time.monotonic() - started < 3.0  # the whole body would take 5 s


# -- forged webhooks and oversized bodies -------------------------------------------------------
def test_a_webhook_for_an_unknown_project_changes_nothing(backend: str, store_url: str) -> None:
    client = httpx.Client(base_url=backend, auth=CREDENTIALS)
    client.post("/setup", json=setup_body())
    before = snapshot(store_url)
    forged = annotation_created(1, "great", "Positive", 11)
    forged["project"] = {**project_object(), "id": 99}
    response = client.post("/webhook", json=forged)
    assert response.status_code == 404
    assert "project 99 is not connected" in response.json()["detail"]
    assert snapshot(store_url) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": {"choices": ["Maybe"]}}, "'Maybe' is not in the config's choices"),
        ({"value": {"choices": ["Positive", "Bogus"]}}, "'Bogus' is not in the config's"),
        ({"value": {"choices": "Positive"}}, "needs 'value'"),
        ({"to_name": "elsewhere"}, "labels 'elsewhere'"),
    ],
)
def test_a_webhook_with_a_label_outside_the_label_space_changes_nothing(
    backend: str, store_url: str, change: dict[str, Any], message: str
) -> None:
    client = httpx.Client(base_url=backend, auth=CREDENTIALS)
    client.post("/setup", json=setup_body())
    client.post("/webhook", json=annotation_created(1, "great fun", "Positive", 11))
    before = snapshot(store_url)
    forged = annotation_created(2, "awful mess", "Positive", 12)
    forged["annotation"]["result"][0].update(change)
    response = client.post("/webhook", json=forged)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert snapshot(store_url) == before
    assert client.get("/versions").json()["versions"] == []  # nothing trained


def test_malformed_webhooks_get_a_4xx_and_change_nothing(backend: str, store_url: str) -> None:
    client = httpx.Client(base_url=backend, auth=CREDENTIALS)
    client.post("/setup", json=setup_body())
    before = snapshot(store_url)
    no_project = annotation_created(1, "great", "Positive", 11)
    del no_project["project"]
    too_many = annotation_created(1, "great", "Positive", 11)
    too_many["annotation"]["result"] *= 101
    cases = [
        (no_project, "needs its 'project'"),
        ({**annotation_created(1, "great", "Positive", 11), "task": "x"}, "'task' objects"),
        (too_many, "at most 100 regions"),
        ({"action": "ANNOTATIONS_DELETED", "project": project_object()}, "list 'annotations'"),
    ]
    for body, message in cases:
        response = client.post("/webhook", json=body)
        assert response.status_code == 422, message
        assert message in response.json()["detail"]
    not_json = client.post("/webhook", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    assert snapshot(store_url) == before


def test_an_oversized_body_is_refused_with_413(backend: str, store_url: str) -> None:
    client = httpx.Client(base_url=backend, auth=CREDENTIALS)
    client.post("/setup", json=setup_body())
    before = snapshot(store_url)
    big = annotation_created(1, "x" * (BODY_LIMIT + 1), "Positive", 11)
    declared = client.post("/webhook", json=big)
    assert declared.status_code == 413
    assert f"limit of {BODY_LIMIT} bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body streams in chunks
        yield httpx.Request("POST", "/", json=big).read()

    streamed = client.post(
        "/webhook", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert snapshot(store_url) == before
    unauthenticated = httpx.post(f"{backend}/webhook", json=big)
    assert unauthenticated.status_code == 401  # credentials are checked before the body
