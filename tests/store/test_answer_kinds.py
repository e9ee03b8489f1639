"""Number and label-set answers: checked, stored append-only, aggregated, undone, exported."""

from __future__ import annotations

import csv
import itertools
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.exc import IntegrityError

from labelwise.store import (
    AnswerError,
    AnswerSpec,
    Store,
    StoreError,
    add_annotator,
    add_samples,
    create_project,
    enqueue,
    export_labeled,
    get_project,
    lease_next_task,
    reaggregate,
    submit_annotation,
)
from labelwise.store.aggregation import Vote
from labelwise.store.answer_aggregation import (
    aggregate_answers,
    agreement_of_votes,
    label_set_dawid_skene,
)
from labelwise.store.answers import encode_answer
from labelwise.store.corrections import undo_last
from labelwise.store.schema import Annotation, Label
from labelwise.store.tasks import project_info, task_view
from tests.store.factories import tally_matches_samples

LABELS = ["sports", "politics", "tech"]


def _project(store: Store, kind: str, overlap: int = 1, **answer: object) -> dict[str, int]:
    labels = [] if kind == "number" else LABELS
    settings: dict[str, object] = {"overlap": overlap}
    if answer:
        settings["answer"] = answer
    create_project(store, "p", labels, settings=settings, answer_kind=kind)  # type: ignore[arg-type]
    ids = add_samples(store, "p", [{"id": f"s{i}", "text": f"item {i}"} for i in range(4)])
    for i in range(3):
        add_annotator(store, f"a{i}")
    return {f"s{i}": sid for i, sid in enumerate(ids)}


def _answer(store: Store, annotator: str, value: str) -> str | None:
    lease = lease_next_task(store, "p", annotator)
    assert lease is not None
    return submit_annotation(store, lease.task_id, annotator, value).label


def test_project_info_carries_the_answer_kind(store: Store) -> None:
    _project(store, "number", min=0.0, max=10.0, step=0.5)
    info = get_project(store, "p")
    assert info.answer_kind == "number" and info.label_space == ()
    rules = {"min": 0.0, "max": 10.0, "step": 0.5, "aggregation": "median"}
    assert info.settings["answer"] == rules
    assert project_info(store, "p").answer_kind == "number"


@pytest.mark.parametrize(
    ("kind", "labels", "answer", "problem"),
    [
        ("number", [], {"min": 5.0, "max": 1.0}, "below max"),
        ("number", [], {"step": 0}, "step must be positive"),
        ("number", [], {"aggregation": "mode"}, "'median' or 'mean'"),
        ("number", [], {"low": 1}, "unknown answer settings"),
        ("number", [], {"min": float("nan")}, "finite number"),
        ("labels", ["x" * 60, "y" * 60, "z" * 60, "w" * 60], {}, "must fit in 200"),
        ("label", ["a", "b"], {"min": 0}, "number projects only"),
        ("score", ["a", "b"], {}, "answer kind must be one of"),
    ],
)
def test_bad_answer_settings_are_refused_naming_the_problem(
    store: Store, kind: str, labels: list[str], answer: dict[str, object], problem: str
) -> None:
    settings = {"answer": answer} if answer else None
    with pytest.raises(StoreError, match=problem):
        create_project(store, "p", labels, settings=settings, answer_kind=kind)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("11", "above the maximum 10"),
        ("-1", "below the minimum 0"),
        ("1.2", "not a multiple of the step 0.5"),
        ("nan", "finite number"),
        ("inf", "finite number"),
        ("seven", "must be a number"),
    ],
)
def test_numbers_outside_the_bounds_and_step_are_refused(
    store: Store, value: str, problem: str
) -> None:
    ids = _project(store, "number", min=0.0, max=10.0, step=0.5)
    enqueue(store, "p", [ids["s0"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    with pytest.raises(AnswerError, match=problem):
        submit_annotation(store, lease.task_id, "a0", value)
    with store.read() as session:
        assert session.query(Annotation).count() == 0


def test_label_sets_with_unknown_or_repeated_labels_are_refused(store: Store) -> None:
    ids = _project(store, "labels")
    enqueue(store, "p", [ids["s0"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    for bad, problem in [
        ('["sports","art"]', r"\['art'\] are not in project 'p'"),
        ('["tech","tech"]', "repeats a label"),
        ("sports", "list of labels"),
        ('{"sports": 1}', "list of labels"),
    ]:
        with pytest.raises(AnswerError, match=problem):
            submit_annotation(store, lease.task_id, "a0", bad)


def test_numbers_aggregate_by_median_or_mean_once_overlap_answered(store: Store) -> None:
    ids = _project(store, "number", overlap=3, aggregation="mean", min=0.0, step=0.1)
    enqueue(store, "p", [ids["s0"]])
    assert _answer(store, "a0", "0.3") is None
    assert _answer(store, "a1", "0.1") is None
    label = _answer(store, "a2", "2")
    assert label is not None and float(label) == pytest.approx(statistics.mean([0.3, 0.1, 2.0]))
    with store.read() as session:
        row = session.get_one(Label, ids["s0"])
        stored = [a.value for a in session.query(Annotation).order_by(Annotation.id)]
    assert (row.method, row.agreement, row.n_annotations) == ("mean", None, 3)
    assert stored == ["0.3", "0.1", "2.0"]  # canonical texts, float noise of the step removed
    assert task_view(store, 1).project_info is not None
    assert task_view(store, 1).project_info.answer_kind == "number"  # type: ignore[union-attr]


def test_label_sets_aggregate_per_label_and_undo_withdraws(store: Store) -> None:
    ids = _project(store, "labels", overlap=3)
    enqueue(store, "p", [ids["s0"]])
    _answer(store, "a0", '["tech","sports"]')  # any order in, label-space order stored
    _answer(store, "a1", json.dumps(["sports"]))
    label = _answer(store, "a2", '["sports","politics"]')
    assert label == '["sports"]'
    with store.read() as session:
        row = session.get_one(Label, ids["s0"])
        assert row.method == "per_label_majority"
        # mean pairwise Jaccard similarity: (1/2 + 1/3 + 1/2) / 3
        assert row.agreement == pytest.approx((1 / 2 + 1 / 3 + 1 / 2) / 3)
    undo_last(store, "p", "a2")
    with store.read() as session:
        assert session.get(Label, ids["s0"]) is None
        standing = session.query(Annotation).filter(Annotation.retracted_at.is_(None)).count()
        assert standing == 2 and session.query(Annotation).count() == 3
    assert tally_matches_samples(store)
    lease = lease_next_task(store, "p", "a2")
    assert lease is not None  # the undone task, leased again
    assert submit_annotation(store, lease.task_id, "a2", "[]").label == '["sports"]'


def test_resubmitting_the_same_number_is_idempotent(store: Store) -> None:
    ids = _project(store, "number")
    enqueue(store, "p", [ids["s0"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    first = submit_annotation(store, lease.task_id, "a0", "2")
    again = submit_annotation(store, lease.task_id, "a0", "2.0")
    assert again.id == first.id and again.value == "2.0"


def test_export_writes_numbers_and_label_lists(store: Store, tmp_path: Path) -> None:
    ids = _project(store, "labels", overlap=2)
    enqueue(store, "p", [ids["s0"]])
    _answer(store, "a0", '["politics","tech"]')
    _answer(store, "a1", '["tech"]')
    assert export_labeled(store, "p", tmp_path / "out.jsonl") == 1
    row = json.loads((tmp_path / "out.jsonl").read_text())
    assert row["label"] == ["tech"]
    assert [a["label"] for a in row["annotations"]] == [["politics", "tech"], ["tech"]]
    export_labeled(store, "p", tmp_path / "out.csv", "csv")
    with (tmp_path / "out.csv").open() as handle:
        cell = next(csv.DictReader(handle))
    assert json.loads(cell["label"]) == ["tech"]


def test_export_writes_numbers(store: Store, tmp_path: Path) -> None:
    ids = _project(store, "number", overlap=2)
    enqueue(store, "p", [ids["s0"]])
    _answer(store, "a0", "1")
    _answer(store, "a1", "4.5")
    export_labeled(store, "p", tmp_path / "out.jsonl")
    row = json.loads((tmp_path / "out.jsonl").read_text())
    assert row["label"] == 2.75 and [a["label"] for a in row["annotations"]] == [1.0, 4.5]
    export_labeled(store, "p", tmp_path / "out.csv", "csv")
    with (tmp_path / "out.csv").open() as handle:
        assert float(next(csv.DictReader(handle))["label"]) == 2.75


def test_dawid_skene_per_label_reaggregates_a_multilabel_project(store: Store) -> None:
    ids = _project(store, "labels", overlap=3)
    enqueue(store, "p", [ids["s0"], ids["s1"]], [2.0, 1.0])
    for _ in range(2):
        for who, answer in zip(("a0", "a1", "a2"), ('["tech"]', '["tech"]', "[]"), strict=True):
            _answer(store, who, answer)
    spec = AnswerSpec.of("labels", LABELS, None)
    assert reaggregate(store, "p", label_set_dawid_skene(spec), "dawid_skene") == 2
    with store.read() as session:
        labels = {row.sample_id: (row.value, row.method) for row in session.query(Label)}
    expected = ('["tech"]', "dawid_skene")
    assert labels == {ids["s0"]: expected, ids["s1"]: expected}


def test_migration_0005_gives_old_projects_label_answers_and_goes_back(store_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from labelwise.store.engine import _alembic_config, _make_engine

    engine, _ = _make_engine(store_url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0004")
        connection.execute(
            text(
                "INSERT INTO project (name, task_type, label_space, settings, created_at)"
                " VALUES ('old', 'text_classification', '[\"neg\", \"pos\"]', '{}', :now)"
            ),
            {"now": "2026-01-02 03:04:05"},
        )
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0005")
        kind = connection.execute(text("SELECT answer_kind FROM project")).scalar_one()
        assert kind == "label"
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE project SET answer_kind = 'score'"))
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0004")
        command.upgrade(_alembic_config(connection), "0005")
        assert connection.execute(text("SELECT answer_kind FROM project")).scalar_one() == "label"
    engine.dispose()


# --- the pure parts, against slow references on random inputs ------------------------------


def test_set_aggregation_matches_a_per_label_count() -> None:
    rng = np.random.default_rng(0)
    spec = AnswerSpec.of("labels", LABELS, None)
    for _ in range(200):
        answers = [
            [x for x in LABELS if rng.random() < 0.5] for _ in range(int(rng.integers(1, 6)))
        ]
        texts = [encode_answer(spec, a) for a in answers]
        value, agreement, _ = aggregate_answers(spec, texts)
        expected = [x for x in LABELS if sum(x in a for a in answers) * 2 > len(answers)]
        assert json.loads(value) == expected
        sims = [
            1.0 if not (set(a) | set(b)) else len(set(a) & set(b)) / len(set(a) | set(b))
            for a, b in itertools.combinations(answers, 2)
        ]
        assert agreement == pytest.approx(statistics.mean(sims) if sims else 1.0)


def test_number_aggregation_matches_statistics() -> None:
    rng = np.random.default_rng(1)
    for method, reference in (("median", statistics.median), ("mean", statistics.mean)):
        spec = AnswerSpec.of("number", [], {"answer": {"aggregation": method}})
        for _ in range(100):
            numbers = rng.normal(size=int(rng.integers(1, 7))).round(3).tolist()
            texts = [encode_answer(spec, x) for x in numbers]
            value, _, used = aggregate_answers(spec, texts)
            assert used == method and float(value) == pytest.approx(reference(numbers))


def test_agreement_of_identical_numbers_is_perfect_and_of_noise_low() -> None:
    spec = AnswerSpec.of("number", [], None)
    same = [Vote(s, a, str(float(s))) for s in range(10) for a in range(3)]
    assert agreement_of_votes(spec, same) == pytest.approx(1.0)
    rng = np.random.default_rng(2)
    noise = [Vote(s, a, repr(float(rng.normal()))) for s in range(50) for a in range(3)]
    assert abs(agreement_of_votes(spec, noise)) < 0.3
    sets = AnswerSpec.of("labels", LABELS, None)
    votes = [
        Vote(s, a, encode_answer(sets, LABELS[: s % 3 + 1])) for s in range(9) for a in range(2)
    ]
    assert agreement_of_votes(sets, votes) == pytest.approx(1.0)


def _alpha_reference(units: list[list[Any]], delta: Callable[[Any, Any], float]) -> float:
    """Krippendorff's alpha straight from its definition (pairable values only)."""
    pairable = [u for u in units if len(u) >= 2]
    values = [v for u in pairable for v in u]
    n = len(values)
    observed = 0.0
    for u in pairable:
        pairs = [delta(a, b) for i, a in enumerate(u) for j, b in enumerate(u) if i != j]
        observed += sum(pairs) / (len(u) - 1)
    everything = [delta(a, b) for i, a in enumerate(values) for j, b in enumerate(values) if i != j]
    return 1.0 - (observed / n) / (sum(everything) / (n * (n - 1)))


@pytest.mark.parametrize("kind", ["number", "labels"])
def test_project_agreement_matches_the_definition(store: Store, kind: str) -> None:
    from labelwise.quality.label_sets import masi_distance
    from labelwise.store.answer_aggregation import project_agreement

    ids = _project(store, kind, overlap=2)
    enqueue(store, "p", list(ids.values()), [4.0, 3.0, 2.0, 1.0])
    rng = np.random.default_rng(3)
    units: dict[int, list[Any]] = {}
    for _ in range(4):
        for who in ("a0", "a1"):
            lease = lease_next_task(store, "p", who)
            assert lease is not None
            if kind == "number":
                given: object = float(rng.integers(0, 5))
                text = str(given)
            else:
                given = [x for x in LABELS if rng.random() < 0.5]
                text = json.dumps(given)
            submit_annotation(store, lease.task_id, who, text)
            units.setdefault(lease.sample_id, []).append(given)
    if kind == "number":
        expected = _alpha_reference(list(units.values()), lambda a, b: (a - b) ** 2)
    else:
        rows = {x: [[int(q in v) for q in LABELS] for v in u] for x, u in units.items()}
        expected = _alpha_reference(list(rows.values()), masi_distance)
    assert project_agreement(store, "p") == pytest.approx(expected)
