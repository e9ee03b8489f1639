"""Suggestion acceptance: what annotators were shown is stored, and the figures count it."""

from __future__ import annotations

from sqlalchemy import text

from labelwise.store import Store
from labelwise.store.schema import Suggestion
from tests.server.conftest import Served

ACCEPTANCE = "/api/admin/projects/reviews/acceptance"


def _task(served: Served, who: dict[str, str]) -> dict[str, object]:
    found = served.client.post("/api/projects/reviews/next", headers=who).json()["task"]
    assert found is not None
    return dict(found)


def _answer(served: Served, who: dict[str, str], task_id: object, label: str) -> None:
    url = f"/api/tasks/{task_id}/annotation"
    assert served.client.post(url, headers=who, json={"label": label}).status_code == 201


def _guess(served: Served, who: dict[str, str], task_id: object) -> dict[str, object]:
    """The suggestion asked for (the page's g key): served and kept."""
    found = served.client.post(f"/api/tasks/{task_id}/guess", headers=who)
    assert found.status_code == 200, found.text
    return dict(found.json())


def _show_suggestions(served: Served, show: bool) -> None:
    url = "/api/admin/projects/reviews/settings"
    changed = served.client.patch(url, headers=served.admin, json={"show_suggestion": show})
    assert changed.status_code == 200, changed.text


def _kept(served: Served) -> int:
    with served.store.read() as session:
        return session.query(Suggestion).count()


def _trained(served: Served) -> None:
    for _ in range(6):
        task = _task(served, served.alice)
        number = int(str(task["external_id"])[1:])
        _answer(served, served.alice, task["task_id"], "pos" if number % 2 else "neg")
    ran = served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin)
    assert ran.status_code == 200 and ran.json()["eval_accuracy"] is not None


def counted_in_sql(store: Store) -> dict[str, tuple[int, int]]:
    """Per annotator: standing pool answers after a suggestion, and those equal to it."""
    query = text(
        """
        SELECT who.name, count(*), sum(CASE WHEN a.value = s.value THEN 1 ELSE 0 END)
        FROM annotation a
        JOIN annotator who ON who.id = a.annotator_id
        JOIN sample x ON x.id = a.sample_id
        JOIN suggestion s ON s.id = (
            SELECT max(t.id) FROM suggestion t
            WHERE t.task_id = a.task_id AND t.annotator_id = a.annotator_id
              AND t.served_at <= a.created_at)
        WHERE a.retracted_at IS NULL AND x.split = 'pool'
        GROUP BY who.name
        """
    )
    with store.read() as session:
        return {name: (int(n), int(k)) for name, n, k in session.execute(query)}


def test_no_suggestion_comes_with_a_task_before_any_model(served: Served) -> None:
    task = _task(served, served.alice)
    assert task["suggestion"] is None
    assert _kept(served) == 0


def test_the_task_handed_out_carries_the_suggestion_and_acceptance_counts_it(
    served: Served,
) -> None:
    _trained(served)
    before = served.client.get(ACCEPTANCE, headers=served.admin).json()
    assert before["annotators"] == [] and "No answer followed a suggestion" in before["explanation"]
    task = _task(served, served.alice)
    for _ in range(4):  # alice takes every suggestion, one request per label
        shown = task["suggestion"]
        assert isinstance(shown, dict) and shown["label"] in ("neg", "pos")
        assert shown["round"] == 2 and 0.5 <= shown["probability"] <= 1
        url = f"/api/tasks/{task['task_id']}/answer"
        done = served.client.post(url, headers=served.alice, json={"label": shown["label"]})
        assert done.status_code == 201, done.text
        task = done.json()["next"]["task"]
    for _ in range(3):  # bob answers against it
        task = _task(served, served.bob)
        shown = task["suggestion"]
        assert isinstance(shown, dict)
        _answer(served, served.bob, task["task_id"], "neg" if shown["label"] == "pos" else "pos")
    _show_suggestions(served, False)
    task = _task(served, served.bob)  # answered without a suggestion: not counted
    assert task["suggestion"] is None
    _answer(served, served.bob, task["task_id"], "pos")

    with served.store.read() as session:
        rows = session.query(Suggestion).all()
    assert len(rows) == 8  # one per task handed out with one (alice's fifth is unanswered)
    assert {r.round_number for r in rows} == {2}
    assert all(r.confidence is not None and 0.5 <= r.confidence <= 1 for r in rows)
    assert all(r.model_version for r in rows)

    found = served.client.get(ACCEPTANCE, headers=served.admin).json()
    people = {r["key"]: (r["n"], r["accepted"]) for r in found["annotators"]}
    assert people == counted_in_sql(served.store) == {"alice": (4, 4), "bob": (3, 0)}
    assert found["model_accuracy"] is not None
    assert all(r["rubber_stamping"] is False for r in found["annotators"])  # too few answers
    by_class = {r["key"]: r for r in found["classes"]}
    assert sum(r["n"] for r in by_class.values()) == 7
    assert sum(r["accepted"] for r in by_class.values()) == 4
    assert set(by_class) <= {"neg", "pos"}


def test_a_suggestion_asked_for_is_kept_once_and_reading_keeps_nothing(served: Served) -> None:
    _trained(served)
    _show_suggestions(served, False)
    task = _task(served, served.alice)
    assert task["suggestion"] is None
    read = served.client.get(f"/api/tasks/{task['task_id']}/guess", headers=served.alice)
    assert read.status_code == 200 and read.json()["label"] in ("neg", "pos")
    assert _kept(served) == 0  # GET only reads the model
    shown = _guess(served, served.alice, task["task_id"])
    assert _guess(served, served.alice, task["task_id"]) == shown == read.json()
    assert _kept(served) == 1  # asking twice keeps it once
    _guess(served, served.admin, task["task_id"])  # not the task's annotator: nothing kept
    assert _kept(served) == 1
    _answer(served, served.alice, task["task_id"], str(shown["label"]))
    assert counted_in_sql(served.store) == {"alice": (1, 1)}


def test_an_undone_answer_leaves_the_figures(served: Served) -> None:
    _trained(served)
    task = _task(served, served.alice)
    shown = _guess(served, served.alice, task["task_id"])
    _answer(served, served.alice, task["task_id"], str(shown["label"]))
    back = served.client.post("/api/projects/reviews/undo", headers=served.alice)
    assert back.is_success and back.json()["suggestion"] == shown  # undo hands it out again
    other = "neg" if shown["label"] == "pos" else "pos"
    _answer(served, served.alice, task["task_id"], other)  # the same suggestion, now refused
    found = served.client.get(ACCEPTANCE, headers=served.admin).json()
    assert [(r["key"], r["n"], r["accepted"]) for r in found["annotators"]] == [("alice", 1, 0)]
    assert counted_in_sql(served.store) == {"alice": (1, 0)}


def test_acceptance_is_the_leads(served: Served) -> None:
    assert served.client.get(ACCEPTANCE, headers=served.alice).status_code == 403
    missing = served.client.get("/api/admin/projects/nope/acceptance", headers=served.admin)
    assert missing.status_code == 404
