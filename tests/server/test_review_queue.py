"""The review queue: disagreements, answers against a confident model or Dawid-Skene, failed
gold; a reviewer resolves them and the resolved label records its method and stays."""

from __future__ import annotations

from sqlalchemy import select

from labelwise.store import add_annotator, get_project, reaggregate
from labelwise.store.answer_aggregation import label_dawid_skene
from labelwise.store.answers import AnswerSpec
from labelwise.store.members import add_member
from labelwise.store.schema import Audit, Label, Sample
from tests.server.conftest import Served, bearer

REVIEW = "/api/review/projects/reviews"
SETTINGS = "/api/admin/projects/reviews/settings"


def _reviewer(served: Served) -> dict[str, str]:
    add_annotator(served.store, "rita", "reviewer", "rita-token")
    add_member(served.store, "reviews", "rita")
    return bearer("rita-token")


def _task(served: Served, who: dict[str, str]) -> dict[str, object]:
    found = served.client.post("/api/projects/reviews/next", headers=who).json()["task"]
    assert found is not None
    return dict(found)


def _answer(served: Served, who: dict[str, str], task_id: object, label: str) -> None:
    url = f"/api/tasks/{task_id}/annotation"
    assert served.client.post(url, headers=who, json={"label": label}).status_code == 201


def _truth(task: dict[str, object]) -> str:
    return "pos" if int(str(task["external_id"])[1:]) % 2 else "neg"


def _queue(served: Served, who: dict[str, str], query: str = "") -> list[dict[str, object]]:
    found = served.client.get(f"{REVIEW}/queue{query}", headers=who)
    assert found.status_code == 200, found.text
    return list(found.json())


def test_an_answer_against_a_confident_model_is_queued_and_resolved(served: Served) -> None:
    assert served.client.patch(SETTINGS, headers=served.admin, json={"review_confidence": 0.5})
    for _ in range(6):
        task = _task(served, served.alice)
        _answer(served, served.alice, task["task_id"], _truth(task))
    assert served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin)
    task = _task(served, served.bob)
    shown = served.client.get(f"/api/tasks/{task['task_id']}/guess", headers=served.bob).json()
    against = "neg" if shown["label"] == "pos" else "pos"
    _answer(served, served.bob, task["task_id"], against)
    rita = _reviewer(served)
    items = _queue(served, rita, "?kind=confident_model")
    assert [i["sample"]["external_id"] for i in items] == [task["external_id"]]  # type: ignore[index]
    (reason,) = items[0]["reasons"]  # type: ignore[misc]
    assert (reason["kind"], reason["annotator"], reason["answer"], reason["expected"]) == (
        "confident_model",
        "bob",
        against,
        shown["label"],
    )
    assert reason["confidence"] == shown["probability"]
    sample_id = items[0]["sample"]["sample_id"]  # type: ignore[index]
    done = served.client.post(
        f"{REVIEW}/samples/{sample_id}/resolution", headers=rita, json={"label": shown["label"]}
    )
    assert done.status_code == 200 and done.json()["method"] == "review"
    assert _queue(served, rita, "?kind=confident_model") == []
    every = _queue(served, rita, "?kind=confident_model&open_only=false")
    assert [i["sample"]["method"] for i in every] == ["review"]  # type: ignore[index]

    raised = served.client.patch(SETTINGS, headers=served.admin, json={"review_confidence": 1.0})
    assert raised.json()["review_confidence"] == 1.0
    assert _queue(served, rita, "?kind=confident_model&open_only=false") == []


def test_disagreement_and_dawid_skene_reasons_and_the_review_label_wins(served: Served) -> None:
    assert served.client.patch(SETTINGS, headers=served.admin, json={"overlap": 2}).is_success
    assert served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin)
    answered = set()
    for _ in range(4):
        first = _task(served, served.alice)
        _answer(served, served.alice, first["task_id"], _truth(first))
        answered.add(first["external_id"])
    split_on = None
    for _ in range(4):
        second = _task(served, served.bob)
        wrong = split_on is None and second["external_id"] in answered
        bob_says = ("neg" if _truth(second) == "pos" else "pos") if wrong else _truth(second)
        _answer(served, served.bob, second["task_id"], bob_says)
        split_on = second["external_id"] if wrong else split_on
    assert split_on is not None
    rita = _reviewer(served)
    items = _queue(served, rita)
    item = next(i for i in items if i["sample"]["external_id"] == split_on)  # type: ignore[index]
    kinds = [r["kind"] for r in item["reasons"]]  # type: ignore[attr-defined]
    assert kinds[0] == "disagreement" and set(kinds) <= {"disagreement", "dawid_skene"}
    for reason in item["reasons"]:  # type: ignore[attr-defined]
        if reason["kind"] == "dawid_skene":
            assert reason["answer"] != reason["expected"] and reason["annotator"] in (
                "alice",
                "bob",
            )
    sample_id = item["sample"]["sample_id"]  # type: ignore[index]
    url = f"{REVIEW}/samples/{sample_id}/resolution"
    assert served.client.post(url, headers=rita, json={"label": "pos"}).status_code == 200
    info = get_project(served.store, "reviews")
    spec = AnswerSpec.of("label", info.label_space, info.settings)
    reaggregate(served.store, "reviews", label_dawid_skene(spec), "dawid_skene")
    with served.store.read() as session:
        label = session.get_one(Label, sample_id)
    assert (label.value, label.method) == ("pos", "review")
    assert all(i["sample"]["sample_id"] != sample_id for i in _queue(served, rita))  # type: ignore[index]


def test_a_failed_gold_question_is_queued_and_checked(served: Served) -> None:
    served.client.patch(SETTINGS, headers=served.admin, json={"gold_fraction": 0.5})
    for _ in range(8):
        task = _task(served, served.alice)
        _answer(served, served.alice, task["task_id"], "pos")
    rita = _reviewer(served)
    failed = _queue(served, rita, "?kind=gold_failed")
    assert failed, "answering pos to every gold question fails the neg ones"
    for item in failed:
        (reason,) = item["reasons"]  # type: ignore[misc]
        assert (reason["kind"], reason["answer"], reason["expected"]) == (
            "gold_failed",
            "pos",
            "neg",
        )
    gold_id = failed[0]["sample"]["sample_id"]  # type: ignore[index]
    url = f"{REVIEW}/samples/{gold_id}/gold"
    assert served.client.post(url, headers=served.alice, json={"label": "neg"}).status_code == 403
    wrong = served.client.post(url, headers=rita, json={"label": "meh"})
    assert wrong.status_code == 422 and "label space" in wrong.json()["detail"]
    checked = served.client.post(url, headers=rita, json={"label": "neg"})
    assert checked.json() == {"sample_id": gold_id, "gold_label": "neg", "corrected": False}
    left = [i["sample"]["sample_id"] for i in _queue(served, rita, "?kind=gold_failed")]  # type: ignore[index]
    assert gold_id not in left and len(left) == len(failed) - 1
    with served.store.read() as session:
        assert session.scalar(select(Sample.gold_label).where(Sample.id == gold_id)) == "neg"
        assert session.scalars(select(Audit.actor).where(Audit.action == "review_gold")).all() == [
            "rita"
        ]
    pool = served.client.post(f"{REVIEW}/samples/1/gold", headers=rita, json={"label": "neg"})
    assert pool.status_code == 409 and "not a gold question" in pool.json()["detail"]


def test_queue_refuses_bad_input(served: Served) -> None:
    rita = _reviewer(served)
    assert served.client.get(f"{REVIEW}/queue?kind=nope", headers=rita).status_code == 422
    assert served.client.get(f"{REVIEW}/queue", headers=served.alice).status_code == 403
    low = served.client.patch(SETTINGS, headers=served.admin, json={"review_confidence": 0.2})
    assert low.status_code == 422
