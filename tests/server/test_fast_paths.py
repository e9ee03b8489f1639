"""The hot endpoints' fast paths: answer with ``?next=true``, the store's own thread, tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from labelwise.server import create_app
from labelwise.store.schema import Annotation, Task
from tests.server.conftest import Served


def _next(served: Served, who: dict[str, str]) -> dict:
    response = served.client.post("/api/projects/reviews/next", headers=who)
    assert response.status_code == 200, response.text
    return response.json()


def _count(served: Served, table: type) -> int:
    with served.store.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_answer_with_next_brings_the_next_task(served: Served) -> None:
    task = _next(served, served.alice)["task"]
    plain_url = f"/api/tasks/{task['task_id']}/annotation"
    reply = served.client.post(
        plain_url, headers=served.alice, json={"label": "pos"}, params={"next": "true"}
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["task_id"] == task["task_id"] and body["label"] == "pos"
    following = body["next"]["task"]
    assert following is not None and following["task_id"] != task["task_id"]
    # the task it brought is the one "next task" gives now (the live lease)
    assert _next(served, served.alice)["task"]["task_id"] == following["task_id"]
    # bob never gets alice's task
    assert _next(served, served.bob)["task"]["task_id"] not in (
        task["task_id"],
        following["task_id"],
    )
    plain = served.client.post(
        f"/api/tasks/{following['task_id']}/annotation", headers=served.alice, json={"label": "neg"}
    )
    assert plain.status_code == 201 and plain.json()["next"] is None  # not asked for
    assert _count(served, Annotation) == 2


def test_answer_with_next_sent_again_is_idempotent(served: Served) -> None:
    task = _next(served, served.alice)["task"]
    url = f"/api/tasks/{task['task_id']}/annotation?next=true"
    first = served.client.post(url, headers=served.alice, json={"label": "pos"})
    again = served.client.post(url, headers=served.alice, json={"label": "pos"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert _count(served, Annotation) == 1
    assert served.client.post(url, headers=served.alice, json={"label": "neg"}).status_code == 409


def test_answer_with_next_refuses_like_the_plain_answer(served: Served) -> None:
    task = _next(served, served.alice)["task"]
    url = f"/api/tasks/{task['task_id']}/annotation?next=true"
    leased = _count(served, Task)
    assert served.client.post(url, headers=served.alice, json={"label": "maybe"}).status_code == 422
    assert served.client.post(url, headers=served.bob, json={"label": "pos"}).status_code == 404
    assert (
        served.client.post(url, headers=served.outsider, json={"label": "pos"}).status_code == 404
    )
    unknown = "/api/tasks/999999/annotation?next=true"
    assert (
        served.client.post(unknown, headers=served.alice, json={"label": "pos"}).status_code == 404
    )
    assert _count(served, Annotation) == 0 and _count(served, Task) == leased
    # bob got no lease from his refused answer: his next task is a fresh one
    assert _next(served, served.bob)["task"]["task_id"] != task["task_id"]


def test_answer_with_next_respects_the_budget(served: Served) -> None:
    served.client.patch(
        "/api/admin/projects/reviews/settings", headers=served.admin, json={"budget": 1}
    )
    task = _next(served, served.alice)["task"]
    reply = served.client.post(
        f"/api/tasks/{task['task_id']}/annotation?next=true",
        headers=served.alice,
        json={"label": "pos"},
    )
    assert reply.status_code == 201
    following = reply.json()["next"]
    assert following["task"] is None and "budget" in following["reason"]


def test_the_app_serves_again_after_its_lifespan_ended(served: Served) -> None:
    served.client.__exit__(None, None, None)  # the store's threads stop with the lifespan
    with TestClient(served.client.app) as client:
        reply = client.post("/api/projects/reviews/next", headers=served.alice)
        assert reply.status_code == 200 and reply.json()["task"] is not None
    served.client.__enter__()  # the fixture closes it again


def test_verified_tokens_are_cached_for_a_while(tmp_path) -> None:
    from labelwise.server import ServerSettings
    from labelwise.store import add_annotator, init_store

    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    add_annotator(store, "ann", "annotator", "ann-token")
    app = create_app(ServerSettings(store=store.url, background=False), store)
    runtime = app.state.runtime
    assert runtime.cached_annotator("ann-token") is None
    found = runtime.annotator("ann-token")
    assert found is not None and found.name == "ann"
    assert runtime.cached_annotator("ann-token") == found
    assert runtime.cached_annotator("other-token") is None
    assert runtime.annotator("other-token") is None
    runtime.close()
    store.close()


def test_an_answer_with_next_from_a_former_member_is_kept(served: Served) -> None:
    from labelwise.store.schema import Project

    task = _next(served, served.alice)["task"]
    with served.store.write() as session:  # alice leaves the project while holding a task
        row = session.scalars(select(Project).where(Project.name == "reviews")).one()
        row.settings = {**row.settings, "annotators": ["bob"]}
    reply = served.client.post(
        f"/api/tasks/{task['task_id']}/annotation?next=true",
        headers=served.alice,
        json={"label": "pos"},
    )
    assert reply.status_code == 201
    assert reply.json()["next"]["task"] is None and "no project" in reply.json()["next"]["reason"]
    assert _count(served, Annotation) == 1


def _answer(served: Served, task_id: int, who: dict[str, str], label: str = "pos"):
    return served.client.post(f"/api/tasks/{task_id}/answer", headers=who, json={"label": label})


def test_the_pages_one_request_brings_the_next_task_and_the_progress(served: Served) -> None:
    task = _next(served, served.alice)["task"]
    reply = _answer(served, task["task_id"], served.alice)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["task_id"] == task["task_id"] and body["label"] == "pos"
    following = body["next"]["task"]
    assert following is not None and following["task_id"] != task["task_id"]
    assert _next(served, served.alice)["task"]["task_id"] == following["task_id"]
    progress = served.client.get("/api/projects/reviews/progress", headers=served.alice)
    assert body["progress"] == progress.json()  # what the progress request says after it
    assert body["progress"]["my_labels"] == 1 and body["progress"]["labeled"] == 1


def test_the_pages_request_sent_again_changes_nothing(served: Served) -> None:
    task = _next(served, served.alice)["task"]
    first = _answer(served, task["task_id"], served.alice)
    again = _answer(served, task["task_id"], served.alice)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert _count(served, Annotation) == 1
    assert _answer(served, task["task_id"], served.alice, "neg").status_code == 409


def test_the_pages_request_refuses_like_the_plain_answer(served: Served) -> None:
    task = _next(served, served.alice)["task"]
    leased = _count(served, Task)
    assert _answer(served, task["task_id"], served.alice, "maybe").status_code == 422
    assert _answer(served, task["task_id"], served.bob).status_code == 404
    assert _answer(served, task["task_id"], served.outsider).status_code == 404
    assert _answer(served, 999999, served.alice).status_code == 404
    assert _count(served, Annotation) == 0 and _count(served, Task) == leased


def test_the_pages_request_holds_the_budget(served: Served) -> None:
    served.client.patch(
        "/api/admin/projects/reviews/settings", headers=served.admin, json={"budget": 1}
    )
    task = _next(served, served.alice)["task"]
    assert _next(served, served.bob)["reason"] == "the budget is spent"  # alice's lease holds it
    body = _answer(served, task["task_id"], served.alice).json()
    assert body["next"] == {"task": None, "reason": "the budget is spent"}
    assert body["progress"]["budget_left"] == 0
