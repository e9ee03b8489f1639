"""The JSON API: tokens, roles, the task cycle, and clear 4xx for every bad request."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from labelwise.store.schema import Annotation, Sample
from tests.server.conftest import Served


def next_task(served: Served, who: dict[str, str], project: str = "reviews") -> dict:
    response = served.client.post(f"/api/projects/{project}/next", headers=who)
    assert response.status_code == 200, response.text
    return response.json()


def n_annotations(served: Served, *, retracted: bool = False) -> int:
    """The annotations that stand (or, with ``retracted``, those taken back)."""
    taken_back = (
        Annotation.retracted_at.is_not(None) if retracted else Annotation.retracted_at.is_(None)
    )
    with served.store.read() as session:
        return int(
            session.scalar(select(func.count()).select_from(Annotation).where(taken_back)) or 0
        )


def test_every_api_endpoint_needs_a_token(served: Served) -> None:
    client = served.client
    assert client.get("/api/me").status_code == 401
    assert client.post("/api/projects/reviews/next").status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    for route in served.client.app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if path.startswith("/api"):
            url = path.replace("{project}", "reviews").replace("{task_id}", "1")
            for method in route.methods - {"HEAD"}:  # type: ignore[attr-defined]
                assert client.request(method, url).status_code == 401, (method, url)


def test_admin_endpoints_refuse_annotators(served: Served) -> None:
    client = served.client
    assert (
        client.get("/api/admin/projects/reviews/dashboard", headers=served.alice).status_code == 403
    )
    assert (
        client.post(
            "/api/admin/projects/reviews/annotators", headers=served.alice, json={"name": "eve"}
        ).status_code
        == 403
    )


def test_annotators_see_only_their_projects(served: Served) -> None:
    assert served.client.get("/api/me", headers=served.alice).json()["projects"] == ["reviews"]
    assert served.client.post("/api/projects/other/next", headers=served.alice).status_code == 404
    assert (
        served.client.post("/api/projects/reviews/next", headers=served.outsider).status_code == 404
    )


def test_a_task_is_leased_to_one_annotator_and_answered_once(served: Served) -> None:
    a = next_task(served, served.alice)["task"]
    b = next_task(served, served.bob)["task"]
    assert a["task_id"] != b["task_id"]
    assert next_task(served, served.alice)["task"]["task_id"] == a["task_id"]  # same lease back
    url = f"/api/tasks/{a['task_id']}/annotation"
    assert served.client.post(url, headers=served.bob, json={"label": "pos"}).status_code == 404
    first = served.client.post(url, headers=served.alice, json={"label": "pos"})
    assert first.status_code == 201
    again = served.client.post(url, headers=served.alice, json={"label": "pos"})
    assert again.status_code == 201 and again.json() == first.json()
    assert served.client.post(url, headers=served.alice, json={"label": "neg"}).status_code == 409
    assert n_annotations(served) == 1


def test_bad_answers_are_refused_and_nothing_is_stored(served: Served) -> None:
    task = next_task(served, served.alice)["task"]
    url = f"/api/tasks/{task['task_id']}/annotation"
    assert served.client.post(url, headers=served.alice, json={"label": "maybe"}).status_code == 422
    assert served.client.post(url, headers=served.alice, json={}).status_code == 422
    assert (
        served.client.post(url, headers=served.alice, json={"label": "pos", "x": 1}).status_code
        == 422
    )
    bad_time = {"label": "pos", "seconds_spent": -1}
    assert served.client.post(url, headers=served.alice, json=bad_time).status_code == 422
    unknown = "/api/tasks/999999/annotation"
    assert (
        served.client.post(unknown, headers=served.alice, json={"label": "pos"}).status_code == 404
    )
    assert n_annotations(served) == 0


def test_an_expired_lease_is_refused_with_409(served: Served) -> None:
    changed = served.client.patch(
        "/api/admin/projects/reviews/settings", headers=served.admin, json={"lease_seconds": 0.001}
    )
    assert changed.status_code == 200
    task = next_task(served, served.alice)["task"]
    import time

    time.sleep(0.01)
    url = f"/api/tasks/{task['task_id']}/annotation"
    response = served.client.post(url, headers=served.alice, json={"label": "pos"})
    assert response.status_code == 409 and "expired" in response.json()["detail"]
    assert n_annotations(served) == 0


def test_skip_hands_the_sample_to_someone_else(served: Served) -> None:
    task = next_task(served, served.alice)["task"]
    assert (
        served.client.post(f"/api/tasks/{task['task_id']}/skip", headers=served.alice).status_code
        == 204
    )
    assert next_task(served, served.alice)["task"]["external_id"] != task["external_id"]
    assert next_task(served, served.bob)["task"]["external_id"] == task["external_id"]


def test_undo_gives_the_last_task_back_and_withdraws_the_label(served: Served) -> None:
    task = next_task(served, served.alice)["task"]
    url = f"/api/tasks/{task['task_id']}/annotation"
    assert served.client.post(url, headers=served.alice, json={"label": "pos"}).status_code == 201
    back = served.client.post("/api/projects/reviews/undo", headers=served.alice)
    assert back.status_code == 200 and back.json()["task_id"] == task["task_id"]
    assert n_annotations(served) == 0 and n_annotations(served, retracted=True) == 1
    assert served.client.post(url, headers=served.alice, json={"label": "neg"}).status_code == 201
    assert served.client.post("/api/projects/reviews/undo", headers=served.bob).status_code == 404


def test_undo_steps_back_through_answers_then_says_none_is_left(served: Served) -> None:
    tasks = []
    for label in ("pos", "neg"):
        task = next_task(served, served.alice)["task"]
        url = f"/api/tasks/{task['task_id']}/annotation"
        answered = served.client.post(url, headers=served.alice, json={"label": label})
        assert answered.status_code == 201
        tasks.append(task["task_id"])
    undo = "/api/projects/reviews/undo"
    backs = [served.client.post(undo, headers=served.alice).json()["task_id"] for _ in tasks]
    assert backs == tasks[::-1]
    again = served.client.post(undo, headers=served.alice)
    assert again.status_code == 404 and "no answer left to undo" in again.json()["detail"]
    assert n_annotations(served) == 0 and n_annotations(served, retracted=True) == 2


def test_gold_questions_are_mixed_in_without_their_answers(served: Served) -> None:
    served.client.patch(
        "/api/admin/projects/reviews/settings", headers=served.admin, json={"gold_fraction": 0.5}
    )
    with served.store.read() as session:
        gold = set(session.scalars(select(Sample.external_id).where(Sample.split == "gold")))
    seen = []
    for _ in range(6):
        response = served.client.post("/api/projects/reviews/next", headers=served.alice)
        task = response.json()["task"]
        assert "gold" not in response.text
        seen.append(task["external_id"])
        url = f"/api/tasks/{task['task_id']}/annotation"
        assert (
            served.client.post(url, headers=served.alice, json={"label": "pos"}).status_code == 201
        )
    assert sum(s in gold for s in seen) == 3  # every second task (fraction 0.5)
    board = served.client.get("/api/admin/projects/reviews/dashboard", headers=served.admin).json()
    assert board["gold"]["alice"]["answered"] == 3


def test_guess_and_progress_follow_the_rounds(served: Served) -> None:
    for _ in range(6):
        task = next_task(served, served.alice)["task"]
        label = (
            "pos"
            if task["external_id"].startswith("s") and int(task["external_id"][1:]) % 2
            else "neg"
        )
        served.client.post(
            f"/api/tasks/{task['task_id']}/annotation", headers=served.alice, json={"label": label}
        )
    ran = served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin).json()
    assert ran["number"] == 2 and ran["n_labeled"] == 6 and ran["eval_accuracy"] is not None
    task = next_task(served, served.alice)["task"]
    guess = served.client.get(f"/api/tasks/{task['task_id']}/guess", headers=served.alice).json()
    assert guess["label"] in ("neg", "pos") and guess["round"] == 2
    progress = served.client.get("/api/projects/reviews/progress", headers=served.alice).json()
    assert progress["my_labels"] == 6 and progress["round"] == 2
    assert progress["eval_accuracy"] == ran["eval_accuracy"]


def test_budget_stops_handing_out_tasks(served: Served) -> None:
    served.client.patch(
        "/api/admin/projects/reviews/settings", headers=served.admin, json={"budget": 1}
    )
    task = next_task(served, served.alice)["task"]
    served.client.post(
        f"/api/tasks/{task['task_id']}/annotation", headers=served.alice, json={"label": "pos"}
    )
    answer = next_task(served, served.bob)
    assert answer["task"] is None and "budget" in answer["reason"]
    progress = served.client.get("/api/projects/reviews/progress", headers=served.bob).json()
    assert progress["budget_left"] == 0


def test_admin_invites_an_annotator_whose_token_works_once_issued(served: Served) -> None:
    made = served.client.post(
        "/api/admin/projects/reviews/annotators", headers=served.admin, json={"name": "carol"}
    )
    assert made.status_code == 201
    token = made.json()["token"]
    me = served.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"name": "carol", "role": "annotator", "projects": ["reviews"]}
    again = served.client.post(
        "/api/admin/projects/reviews/annotators", headers=served.admin, json={"name": "carol"}
    )
    assert again.status_code == 409


def test_admin_creates_a_project_from_an_import(served: Served, tmp_path) -> None:
    from tests.server.conftest import write_project_csv

    path = write_project_csv(tmp_path / "new.csv", 5, 2, 0)
    with path.open("rb") as handle:
        response = served.client.post(
            "/api/admin/projects/fresh/import",
            headers=served.admin,
            files={"file": ("new.csv", handle, "text/csv")},
        )
    assert response.status_code == 200 and response.json()["inserted"] == 7
    bad = served.client.post(
        "/api/admin/projects/fresh/import",
        headers=served.admin,
        files={"file": ("x.exe", b"MZ", "application/octet-stream")},
    )
    assert bad.status_code == 422


def test_settings_are_checked_before_they_are_stored(served: Served) -> None:
    url = "/api/admin/projects/reviews/settings"
    assert (
        served.client.patch(url, headers=served.admin, json={"strategy": "nope"}).status_code == 422
    )
    assert (
        served.client.patch(url, headers=served.admin, json={"gold_fraction": 1.5}).status_code
        == 422
    )
    fine = served.client.patch(
        url, headers=served.admin, json={"strategy": "entropy", "overlap": 2}
    )
    assert fine.status_code == 200
    assert fine.json()["loop"]["strategy"] == "entropy" and fine.json()["overlap"] == 2
    bad = served.client.patch(url, headers=served.admin, json={"diversity": "sometimes"})
    assert bad.status_code == 422 and "diversity" in bad.text
    off = served.client.patch(url, headers=served.admin, json={"diversity": "off"})
    assert off.status_code == 200 and off.json()["loop"]["diversity"] == "off"


def test_dashboard_and_learning_curve(served: Served) -> None:
    board = served.client.get("/api/admin/projects/reviews/dashboard", headers=served.admin)
    assert board.status_code == 200 and board.json()["curve"][0]["round"] == 1
    png = served.client.get("/api/admin/projects/reviews/learning-curve.png", headers=served.admin)
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_class_balance_is_served_as_a_png_bar_chart(served: Served) -> None:
    task = next_task(served, served.alice)["task"]
    url = f"/api/tasks/{task['task_id']}/annotation"
    assert served.client.post(url, headers=served.alice, json={"label": "pos"}).status_code == 201
    url = "/api/admin/projects/reviews/class-balance.png"
    png = served.client.get(url, headers=served.admin)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(png.content)) as image:
        assert image.format == "PNG" and image.size == (600, 340)
        colors = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colors is not None and (76, 114, 176) in {rgb for _, rgb in colors}  # a bar is drawn
    assert served.client.get(url, headers=served.alice).status_code == 403
    assert "class-balance.png" in served.client.get("/static/admin.js").text


def test_pages_and_openapi_are_served(served: Served) -> None:
    assert "Sign in" in served.client.get("/").text
    assert "Dashboard" in served.client.get("/admin").text
    schema = served.client.get("/openapi.json").json()
    assert "/api/projects/{project}/next" in schema["paths"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"HTTPBearer": []} in schema["paths"]["/api/projects/{project}/next"]["post"]["security"]


def test_a_strategy_the_model_cannot_serve_is_refused_and_auto_picks_one(served: Served) -> None:
    url = "/api/admin/projects/reviews/settings"
    refused = served.client.patch(
        url, headers=served.admin, json={"strategy": "bald", "model": "logreg"}
    )
    assert refused.status_code == 422
    assert "samples" in refused.text and "committee" in refused.text
    before = served.client.get(url, headers=served.admin).json()["loop"]
    assert before["strategy"] != "bald"  # nothing stored
    fine = served.client.patch(url, headers=served.admin, json={"strategy": "bald"})
    assert fine.status_code == 200 and fine.json()["loop"]["model"] == "auto"
    listed = served.client.get("/api/admin/strategies", headers=served.admin).json()
    by_name = {s["name"]: s for s in listed}
    assert by_name["bald"]["needs"] == ["samples"] and by_name["bald"]["model"] in (
        "committee",
        "mc_dropout",
    )
    assert by_name["margin"]["model"] == "logreg"
    ran = served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin)
    assert ran.status_code == 200  # no label yet: the round starts cold, and does not fail
    assert ran.json()["strategy"] in ("kmeans", "random")
