"""Regression and multi-label projects through the controller: rounds pick the task's model
and default strategy, annotators answer numbers and label sets; SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from labelwise.controller import Controller
from labelwise.controller import tasks as annotating
from labelwise.controller.models import task_strategy, task_targets
from labelwise.store import (
    AnswerError,
    Store,
    add_annotator,
    add_samples,
    create_project,
    init_store,
    labeled_set,
    list_samples,
)
from tests.store.databases import BACKENDS, fresh_database_url

LABELS = ["left", "up", "far"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    for url in fresh_database_url(request.param, tmp_path):
        opened = init_store(url)
        yield opened
        opened.close()


def _rows(n: int) -> tuple[list[dict[str, object]], np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    rows = [{"id": f"s{i}", "x1": float(a), "x2": float(b)} for i, (a, b) in enumerate(X)]
    return rows, X


def _truth(kind: str, x: np.ndarray) -> object:
    if kind == "number":
        return round(float(3 * x[0] - x[1]), 3)
    return [
        name
        for name, on in zip(LABELS, (x[0] < 0, x[1] > 0, np.hypot(*x) > 1.2), strict=True)
        if on
    ]


def _label_through_the_queue(
    store: Store, kind: str, X: np.ndarray, by_id: dict[str, int], n: int
) -> None:
    for _ in range(n):
        found = annotating.next_task(store, "p", "ann")
        assert found.lease is not None, found.reason
        x = X[int(found.lease.external_id[1:])]
        done = annotating.answer(store, found.lease.task_id, "ann", _truth(kind, x))  # type: ignore[arg-type]
        assert done.annotation.label is not None  # overlap 1: labeled at once


@pytest.mark.parametrize(
    ("kind", "strategy", "model"),
    [
        ("number", "qbc_variance", "bootstrap_ridge"),
        ("labels", "multilabel_adaptive", "one_vs_rest"),
    ],
)
def test_rounds_train_the_task_model_and_rank_with_its_strategy(
    store: Store, kind: str, strategy: str, model: str
) -> None:
    labels = [] if kind == "number" else LABELS
    create_project(store, "p", labels, "tabular_classification", answer_kind=kind)  # type: ignore[arg-type]
    rows, X = _rows(60)
    ids = add_samples(store, "p", rows)
    by_id = {f"s{i}": sid for i, sid in enumerate(ids)}
    add_annotator(store, "ann")
    controller = Controller(store, "p")
    first = controller.run_round()
    assert first.cold and first.queued > 0  # no labels yet: k-means cold start
    _label_through_the_queue(store, kind, X, by_id, 20)
    second = controller.run_round()
    assert (second.strategy, second.model, second.cold) == (strategy, model, False)
    assert second.n_labeled == 20 and second.queued > 0
    labeled = labeled_set(store, "p")
    targets = task_targets(kind, [v for _, v in labeled], LABELS)
    expected = [_truth(kind, X[int(s.external_id[1:])]) for s, _ in labeled]
    if kind == "number":
        assert targets.tolist() == pytest.approx(expected)
    else:
        assert [[LABELS[q] for q in np.flatnonzero(row)] for row in targets] == expected
    # the model's guess for an unlabeled sample is close to the truth (a linear target)
    held = next(s for s in rows if s["id"] not in {x.external_id for x, _ in labeled})
    sample = next(x for x in list_samples(store, "p") if x.external_id == held["id"])
    guess = controller.guess(sample)
    assert guess is not None
    x = X[int(str(held["id"])[1:])]
    if kind == "number":
        assert guess.probability is None
        assert float(guess.label) == pytest.approx(float(_truth(kind, x)), abs=0.5)  # type: ignore[arg-type]
    else:
        assert set(json.loads(guess.label)) <= set(LABELS) and 0.5 <= (guess.probability or 0) <= 1


def test_answers_of_the_wrong_kind_are_refused_by_the_controller(store: Store) -> None:
    create_project(
        store,
        "p",
        [],
        "tabular_classification",
        {"answer": {"min": 0, "max": 5}},
        answer_kind="number",
    )
    rows, _ = _rows(4)
    add_samples(store, "p", rows)
    add_annotator(store, "ann")
    Controller(store, "p").run_round()
    found = annotating.next_task(store, "p", "ann")
    assert found.lease is not None
    with pytest.raises(AnswerError, match="above the maximum 5"):
        annotating.answer(store, found.lease.task_id, "ann", 7.5)
    with pytest.raises(AnswerError, match="must be a number"):
        annotating.answer(store, found.lease.task_id, "ann", ["a"])
    assert annotating.answer(store, found.lease.task_id, "ann", 2.5).annotation.value == "2.5"


def test_the_loop_strategy_is_kept_only_where_it_serves_the_task() -> None:
    assert task_strategy("number", "margin") == "qbc_variance"
    assert task_strategy("number", "gsx") == "gsx"
    assert task_strategy("labels", "margin") == "multilabel_adaptive"
    assert task_strategy("label", "margin") == "margin"
