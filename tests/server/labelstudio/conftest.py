"""Bodies as Label Studio 1.23.2 sends them (see /work/shared/LABELSTUDIO.md), and a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from labelwise.server.labelstudio import BackendSettings, create_app
from labelwise.store import init_store

CONFIG = (
    '<View>\n  <Text name="text" value="$text"/>\n'
    '  <Choices name="sentiment" toName="text" choice="single" showInLine="true">\n'
    '    <Choice value="Positive"/>\n    <Choice value="Negative"/>\n  </Choices>\n</View>'
)
PROJECT = "1.1764112345"


def task(task_id: int, text: str) -> dict[str, Any]:
    """A full task object, as /predict receives it."""
    return {
        "id": task_id,
        "data": {"text": text},
        "meta": {},
        "created_at": "2025-11-26T01:00:00.000000Z",
        "updated_at": "2025-11-26T01:00:00.000000Z",
        "is_labeled": False,
        "overlap": 1,
        "inner_id": task_id,
        "total_annotations": 0,
        "cancelled_annotations": 0,
        "total_predictions": 0,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": 1,
        "updated_by": None,
        "file_upload": None,
        "comment_authors": [],
        "annotations": [],
        "predictions": [],
    }


def project_object(model_version: str = "labelwise") -> dict[str, Any]:
    return {
        "id": 1,
        "title": "Reviews",
        "label_config": CONFIG,
        "model_version": model_version,
        "sampling": "Uncertainty sampling",
        "start_training_on_annotation_update": True,
    }


def annotation_created(
    task_id: int, text: str, label: str, annotation_id: int, action: str = "ANNOTATION_CREATED"
) -> dict[str, Any]:
    return {
        "action": action,
        "annotation": {
            "id": annotation_id,
            "result": [
                {
                    "id": "abc123",
                    "type": "choices",
                    "value": {"choices": [label]},
                    "origin": "manual",
                    "to_name": "text",
                    "from_name": "sentiment",
                }
            ],
            "was_cancelled": False,
            "ground_truth": False,
            "lead_time": 3.2,
            "task": task_id,
            "project": 1,
            "completed_by": 1,
        },
        "task": task(task_id, text),
        "project": project_object(),
    }


def predict_body(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tasks": tasks,
        "project": PROJECT,
        "label_config": CONFIG,
        "params": {"login": None, "password": None, "context": None},
    }


def setup_body() -> dict[str, Any]:
    return {
        "project": PROJECT,
        "schema": CONFIG,
        "hostname": "",
        "access_token": "0123456789abcdef",
        "extra_params": "",
    }


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ls.db'}"
    init_store(url).close()
    return url


def settings(**changes: Any) -> BackendSettings:
    """Test settings: hashed-word features (no model to load), retrain after 2 annotations."""
    values: dict[str, Any] = {"train_every": 2, "train_delay": 60.0, "text_features": "hashed"}
    return BackendSettings(**{**values, **changes})


def settle(client: Any, timeout: float = 60.0) -> None:
    """Wait until the backend's trainer has nothing running or due (a test-only hook)."""
    import time

    backend = client.app.state.backend
    deadline = time.monotonic() + timeout
    while not backend.trainer.idle():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the trainer is still busy after {timeout} s")
        time.sleep(0.02)


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    """A backend connected to project 1 the way Label Studio connects it: with /setup."""
    app = create_app(store_url, settings())
    with TestClient(app) as test_client:
        assert test_client.post("/setup", json=setup_body()).status_code == 200
        yield test_client
