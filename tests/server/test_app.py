"""The app's own routes: the health check a load balancer or a start-up script polls."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from labelwise.server import ServerSettings, create_app
from labelwise.store import init_store


def test_health_answers_without_a_token_and_is_not_in_the_api_schema(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 'store.db'}")
    with TestClient(create_app(ServerSettings(store=store.url, background=False), store)) as c:
        answer = c.get("/health")
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok"}
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "/health" not in c.get("/openapi.json").json()["paths"]
