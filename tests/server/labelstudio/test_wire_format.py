"""The ML-backend protocol as Label Studio 1.23.2 speaks it: request and response bodies."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.server.labelstudio.conftest import (
    CONFIG,
    annotation_created,
    predict_body,
    project_object,
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


def test_health_answers_up() -> None:
    from labelwise.server.labelstudio import create_app

    with TestClient(create_app("sqlite://")) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "UP", "model_class": "labelwise"}


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
        (region,) = entry["result"]
        assert region["from_name"] == "sentiment"
        assert region["to_name"] == "text"
        assert region["type"] == "choices"
        assert region["value"]["choices"][0] in ("Positive", "Negative")
        assert entry["model_version"] == "labelwise"
    # before any annotation every prediction is uniform: the most informative score, 0
    assert [entry["score"] for entry in results] == [0.0, 0.0, 0.0]


def _annotate(client: TestClient, task_id: int, label: str, annotation_id: int) -> dict[str, Any]:
    response = client.post(
        "/webhook", json=annotation_created(task_id, TEXTS[task_id], label, annotation_id)
    )
    assert response.status_code == 200
    return dict(response.json())


def test_training_runs_after_n_annotations_and_orders_by_uncertainty(client: TestClient) -> None:
    assert _annotate(client, 1, "Positive", 11)["status"] == "waiting"
    trained = _annotate(client, 2, "Negative", 12)
    assert trained["status"] == "trained"
    assert trained["model_version"] == "labelwise-1"
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


def test_start_training_follows_the_n_rule_and_train_forces(client: TestClient) -> None:
    _annotate(client, 1, "Positive", 11)
    body = {"action": "START_TRAINING", "project": project_object()}
    assert client.post("/webhook", json=body).json()["status"] == "waiting"
    assert client.post("/train", json={"project": 1}).json()["status"] == "trained"
    assert client.post("/train", json={"project": 1}).json()["status"] == "waiting"


def test_updated_annotation_replaces_the_label(client: TestClient) -> None:
    _annotate(client, 1, "Positive", 11)
    _annotate(client, 2, "Negative", 12)
    updated = annotation_created(1, TEXTS[1], "Negative", 11, action="ANNOTATION_UPDATED")
    client.post("/webhook", json=updated)
    assert _annotate(client, 3, "Positive", 13)["status"] == "trained"
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
    reply = client.post("/train", json={"project": 1}).json()
    assert reply == {"status": "trained", "model_version": "labelwise-2", "n_train": 1}


def test_other_events_are_acknowledged_and_ignored(client: TestClient) -> None:
    body = {"action": "TASKS_CREATED", "tasks": [task(9, "x")], "project": project_object()}
    response = client.post("/webhook", json=body)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"


def test_state_survives_a_restart(store_url: str) -> None:
    from labelwise.server.labelstudio import BackendSettings, create_app

    with TestClient(create_app(store_url, BackendSettings(train_every=2))) as first:
        first.post("/setup", json=setup_body())
        first.post("/webhook", json=annotation_created(1, TEXTS[1], "Positive", 11))
        first.post("/webhook", json=annotation_created(2, TEXTS[2], "Negative", 12))
        before = first.post("/predict", json=predict_body([task(3, TEXTS[3])])).json()
    with TestClient(create_app(store_url, BackendSettings(train_every=2))) as second:
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
