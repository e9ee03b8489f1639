"""The ML-backend protocol as Label Studio 1.23.2 speaks it: request and response bodies."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.server.labelstudio.conftest import (
    CONFIG,
    annotation_created,
    predict_body,
    project_object,
    settings,
    settle,
    setup_body,
    task,
)

TEXTS = {
    1: "a wonderful, moving film with great acting",
    2: "a dull and awful mess, boring from start to end",
    3: "great acting and a wonderful story",
    4: "boring, awful, a mess",
    5: "the weather today",
}


def test_health_answers_up(store_url: str) -> None:
    from labelwise.server.labelstudio import create_app

    with TestClient(create_app(store_url, settings())) as client:
        response = client.get("/health")
        assert response.status_code == 200
        assert response.json() == {"status": "UP", "model_class": "labelwise", "projects": {}}
        client.post("/setup", json=setup_body())
        state = client.get("/health").json()["projects"]["1"]
    assert state["state"] == "no_model"
    assert state["model_version"] is None


def test_setup_answers_a_model_version(client: TestClient) -> None:
    response = client.post("/setup", json=setup_body())
    assert response.status_code == 200
    assert response.json() == {"model_version": "labelwise"}


def test_predict_answers_one_result_per_task_in_order(client: TestClient) -> None:
    tasks = [task(i, TEXTS[i]) for i in (3, 1, 5)]
    response = client.post("/predict", json=predict_body(tasks))
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 3
    for entry in results:
        assert set(entry) == {"result", "score", "model_version"}
        assert entry["model_version"] == "labelwise"
    # before a model exists nothing is pre-filled: no choice, and no order (1.0 for all)
    assert [entry["result"] for entry in results] == [[], [], []]
    assert [entry["score"] for entry in results] == [1.0, 1.0, 1.0]


def test_predictions_have_the_choice_region_once_a_model_exists(client: TestClient) -> None:
    _annotate(client, 1, "Positive", 11)
    _annotate(client, 2, "Negative", 12)
    settle(client)
    results = client.post("/predict", json=predict_body([task(3, TEXTS[3])])).json()["results"]
    (region,) = results[0]["result"]
    assert region == {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }


def _annotate(client: TestClient, task_id: int, label: str, annotation_id: int) -> dict[str, Any]:
    response = client.post(
        "/webhook", json=annotation_created(task_id, TEXTS[task_id], label, annotation_id)
    )
    assert response.status_code == 200
    return dict(response.json())


def test_training_runs_after_n_annotations_and_orders_by_uncertainty(client: TestClient) -> None:
    first = _annotate(client, 1, "Positive", 11)
    assert (first["status"], first["new_annotations"]) == ("queued", 1)
    assert client.get("/versions").json()["versions"] == []  # 1 of 2: still waiting
    assert _annotate(client, 2, "Negative", 12)["new_annotations"] == 2
    settle(client)
    assert client.get("/health").json()["projects"]["1"]["model_version"] == "labelwise-1"
    results = client.post(
        "/predict", json=predict_body([task(i, TEXTS[i]) for i in (3, 4, 5)])
    ).json()["results"]
    choices = [entry["result"][0]["value"]["choices"][0] for entry in results]
    assert choices[:2] == ["Positive", "Negative"]
    scores = [entry["score"] for entry in results]
    # the unrelated text is the least certain: lowest score, served first by Label Studio
    assert scores[2] < min(scores[:2])
    assert client.get("/versions").json()["versions"] == ["labelwise-1"]


def test_predictions_carry_the_projects_model_version(client: TestClient) -> None:
    body = annotation_created(1, TEXTS[1], "Positive", 11)
    body["project"] = project_object(model_version="reviews-backend")
    client.post("/webhook", json=body)
    results = client.post("/predict", json=predict_body([task(3, TEXTS[3])])).json()["results"]
    assert results[0]["model_version"] == "reviews-backend"


def test_start_training_is_acknowledged_and_train_forces(client: TestClient) -> None:
    _annotate(client, 1, "Positive", 11)
    _annotate(client, 2, "Negative", 12)
    settle(client)
    _annotate(client, 3, "Positive", 13)
    body = {"action": "START_TRAINING", "project": project_object()}
    assert client.post("/webhook", json=body).json()["status"] == "ignored"
    assert client.post("/train", json={"project": 1}).json()["status"] == "queued"
    settle(client)
    assert client.get("/versions").json()["versions"] == ["labelwise-1", "labelwise-2"]
    client.post("/train", json={"project": 1})  # nothing new: no new model
    settle(client)
    assert client.get("/versions").json()["versions"] == ["labelwise-1", "labelwise-2"]


def test_a_quiet_project_trains_after_the_delay(store_url: str) -> None:
    from labelwise.server.labelstudio import create_app

    # a delay long enough that two webhooks fit in it on a busy machine
    with TestClient(create_app(store_url, settings(train_every=100, train_delay=2.0))) as one:
        one.post("/setup", json=setup_body())
        _annotate(one, 1, "Positive", 11)
        _annotate(one, 2, "Negative", 12)
        assert one.get("/versions").json()["versions"] == []
        time.sleep(2.1)
        settle(one)
        assert one.get("/versions").json()["versions"] == ["labelwise-1"]


def test_updated_annotation_replaces_the_label(client: TestClient) -> None:
    _annotate(client, 1, "Positive", 11)
    _annotate(client, 2, "Negative", 12)
    updated = annotation_created(1, TEXTS[1], "Negative", 11, action="ANNOTATION_UPDATED")
    client.post("/webhook", json=updated)
    _annotate(client, 3, "Positive", 13)
    settle(client)
    backend = client.app.state.backend  # type: ignore[attr-defined]
    labels = {rev.task: rev.label for rev in backend.project(1).revisions if rev.number > 1}
    assert labels == {1: "Negative"}
    result = client.post("/predict", json=predict_body([task(1, TEXTS[1])])).json()
    assert result["results"][0]["result"][0]["value"]["choices"] == ["Negative"]


def test_deleted_annotation_leaves_the_training_set(client: TestClient) -> None:
    _annotate(client, 1, "Positive", 11)
    _annotate(client, 2, "Negative", 12)
    body = {
        "action": "ANNOTATIONS_DELETED",
        "annotations": [{"id": 12}],
        "project": project_object(),
    }
    client.post("/webhook", json=body)
    client.post("/train", json={"project": 1})
    settle(client)
    backend = client.app.state.backend  # type: ignore[attr-defined]
    project = backend.project(1)
    assert project.version == "labelwise-1"  # one class left: no new model ...
    assert project.engine is None  # ... and the old one is no longer served
    results = client.post("/predict", json=predict_body([task(3, TEXTS[3])])).json()["results"]
    assert results[0]["result"] == []


def test_other_events_are_acknowledged_and_ignored(client: TestClient) -> None:
    body = {"action": "PROJECT_UPDATED", "project": project_object()}
    response = client.post("/webhook", json=body)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"


def test_state_survives_a_restart(store_url: str) -> None:
    from labelwise.server.labelstudio import create_app

    with TestClient(create_app(store_url, settings())) as first:
        first.post("/setup", json=setup_body())
        first.post("/webhook", json=annotation_created(1, TEXTS[1], "Positive", 11))
        first.post("/webhook", json=annotation_created(2, TEXTS[2], "Negative", 12))
        settle(first)
        before = first.post("/predict", json=predict_body([task(3, TEXTS[3])])).json()
    with TestClient(create_app(store_url, settings())) as second:
        second.post("/setup", json=setup_body())
        settle(second)  # the stored model is refitted in the background
        after = second.post("/predict", json=predict_body([task(3, TEXTS[3])])).json()
        assert second.get("/versions").json()["versions"] == ["labelwise-1"]
        reply = second.post("/webhook", json=annotation_created(4, TEXTS[4], "Negative", 14))
        assert reply.json()["new_annotations"] == 1
    assert after == before


def test_bad_bodies_get_a_clear_4xx(client: TestClient) -> None:
    bad_json = client.post(
        "/predict", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 422
    assert client.post("/predict", json={"project": "1.1"}).status_code == 422  # no tasks
    no_text = client.post("/predict", json=predict_body([{"id": 7, "data": {"txt": "x"}}]))
    assert no_text.status_code == 422
    assert "task 7 has no text in data['text']" in no_text.json()["detail"]
    bad_project = client.post("/predict", json={**predict_body([]), "project": "abc"})
    assert bad_project.status_code == 422
    assert "project id" in bad_project.json()["detail"]
    bad_config = client.post("/setup", json={**setup_body(), "schema": "<View>"})
    assert bad_config.status_code == 422
    assert "not valid XML" in bad_config.json()["detail"]
    no_action = client.post("/webhook", json={"project": project_object()})
    assert no_action.status_code == 422
    bad_choice = annotation_created(1, TEXTS[1], "Maybe", 11)
    response = client.post("/webhook", json=bad_choice)
    assert response.status_code == 422
    assert "'Maybe' is not in the config's choices" in response.json()["detail"]


def test_a_changed_label_space_is_refused(client: TestClient) -> None:
    client.post("/setup", json=setup_body())
    changed = CONFIG.replace('<Choice value="Negative"/>', '<Choice value="Mixed"/>')
    response = client.post("/setup", json={**setup_body(), "schema": changed})
    assert response.status_code == 422
    assert "changed label space" in response.json()["detail"]
