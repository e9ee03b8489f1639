"""A reviewer's label wins over later re-aggregation (Dawid-Skene, gold-weighted majority)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from labelwise.store import (
    Store,
    Vote,
    enqueue,
    lease_next_task,
    reaggregate,
    submit_annotation,
)
from labelwise.store.answer_aggregation import label_dawid_skene
from labelwise.store.answers import AnswerSpec
from labelwise.store.corrections import undo_last
from labelwise.store.schema import Label
from tests.store.factories import pool_project


def _answer(store: Store, annotator: str, value: str) -> None:
    lease = lease_next_task(store, "p", annotator)
    assert lease is not None
    submit_annotation(store, lease.task_id, annotator, value)


def _labels(store: Store) -> dict[int, tuple[str, str]]:
    with store.read() as session:
        return {r.sample_id: (r.value, r.method) for r in session.query(Label)}


def test_dawid_skene_leaves_a_reviewed_label_alone(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=3, overlap=3)
    enqueue(store, "p", [ids["s0"], ids["s1"]], [2.0, 1.0])
    for who, first, second in (("a0", "pos", "neg"), ("a1", "pos", "neg"), ("a2", "neg", "neg")):
        _answer(store, who, first)
        _answer(store, who, second)
    assert _labels(store)[ids["s0"]] == ("pos", "majority")

    def reviewed(_votes: Sequence[Vote]) -> dict[int, tuple[str, float | None]]:
        return {ids["s0"]: ("neg", 1 / 3)}

    reaggregate(store, "p", reviewed, "review", actor="rita")
    assert _labels(store)[ids["s0"]] == ("neg", "review")

    spec = AnswerSpec.of("label", ["neg", "pos"], {})
    written = reaggregate(store, "p", label_dawid_skene(spec), "dawid_skene")
    after = _labels(store)
    assert after[ids["s0"]] == ("neg", "review")  # the reviewer's label stands
    assert after[ids["s1"]] == ("neg", "dawid_skene")
    assert written == 1  # only the label it was allowed to write


def test_a_second_review_may_change_a_reviewed_label(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=2, overlap=1)
    enqueue(store, "p", [ids["s0"]], [1.0])
    _answer(store, "a0", "pos")
    for value in ("neg", "pos"):

        def chosen(_v: Sequence[Vote], value: str = value) -> dict[int, tuple[str, float | None]]:
            return {ids["s0"]: (value, None)}

        reaggregate(store, "p", chosen, "review", actor="rita")
        assert _labels(store)[ids["s0"]] == (value, "review")


def test_answers_given_after_a_review_leave_its_label_alone(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=2, overlap=2)
    enqueue(store, "p", [ids["s0"]], [1.0])
    _answer(store, "a0", "pos")
    _answer(store, "a1", "pos")
    assert _labels(store)[ids["s0"]] == ("pos", "majority")

    def overruled(_votes: Sequence[Vote]) -> dict[int, tuple[str, float | None]]:
        return {ids["s0"]: ("neg", None)}

    reaggregate(store, "p", overruled, "review", actor="rita")
    undo_last(store, "p", "a1")  # the reviewer's label is not withdrawn with the answer
    assert _labels(store)[ids["s0"]] == ("neg", "review")
    lease = lease_next_task(store, "p", "a1")
    assert lease is not None and lease.sample_id == ids["s0"]
    record = submit_annotation(store, lease.task_id, "a1", "pos")  # majority would say pos
    assert record.label == "neg"
    assert _labels(store)[ids["s0"]] == ("neg", "review")
