"""``status``: the counts a project's lead and scripts read, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelwise.store import (
    NotFoundError,
    Store,
    create_dataset_version,
    enqueue,
    lease_next_task,
    record_round,
    status,
    submit_annotation,
)
from labelwise.store.corrections import undo_last
from tests.store.factories import pool_project


def test_a_fresh_project_counts_its_samples_by_state_and_split(
    store: Store, tmp_path: Path
) -> None:
    pool_project(store, tmp_path, n=4)
    counts = status(store, "p")
    assert counts.samples == 5
    assert counts.by_state == {
        "unlabeled": 5,
        "queued": 0,
        "in_progress": 0,
        "labeled": 0,
        "skipped": 0,
    }
    assert counts.by_split == {"pool": 4, "eval": 1, "gold": 0}
    assert counts.by_class == {"neg": 0, "pos": 0}
    assert counts.by_annotator == {}
    assert (counts.annotations, counts.rounds, counts.versions) == (0, 0, 0)


def test_annotations_count_by_class_annotator_and_budget(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=3)
    enqueue(store, "p", [ids["s0"], ids["s1"], ids["s2"]], [3.0, 2.0, 1.0])
    for annotator, value in [("a1", "pos"), ("a0", "neg"), ("a0", "pos")]:
        lease = lease_next_task(store, "p", annotator)
        assert lease is not None
        submit_annotation(store, lease.task_id, annotator, value)
    counts = status(store, "p")
    assert counts.by_class == {"neg": 1, "pos": 2}
    assert list(counts.by_annotator.items()) == [("a0", 2), ("a1", 1)]  # sorted by name
    assert counts.annotations == counts.budget_used == 3
    assert counts.by_state["labeled"] == 3 and counts.by_state["queued"] == 0


def test_an_undone_answer_is_not_counted(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=2)
    enqueue(store, "p", [ids["s0"], ids["s1"]], [2.0, 1.0])
    for value in ("pos", "neg"):
        lease = lease_next_task(store, "p", "a0")
        assert lease is not None
        submit_annotation(store, lease.task_id, "a0", value)
    undo_last(store, "p", "a0")
    counts = status(store, "p")
    assert counts.by_annotator == {"a0": 1}
    assert counts.annotations == counts.budget_used == 1
    assert counts.by_class == {"neg": 0, "pos": 1}


def test_rounds_and_versions_are_counted(store: Store, tmp_path: Path) -> None:
    pool_project(store, tmp_path, n=2)
    record_round(store, "p", "entropy")  # with its dataset version
    record_round(store, "p", "margin", create_version=False)
    create_dataset_version(store, "p", note="by hand")
    counts = status(store, "p")
    assert (counts.rounds, counts.versions) == (2, 2)


def test_the_json_object_has_the_total_and_the_counts_by_state(
    store: Store, tmp_path: Path
) -> None:
    pool_project(store, tmp_path, n=2)
    payload = status(store, "p").to_dict()
    assert payload["samples"] == 3
    assert payload["by_state"]["unlabeled"] == 3
    assert payload["project"] == "p"


def test_an_unknown_project_is_named_with_the_projects_there_are(
    store: Store, tmp_path: Path
) -> None:
    pool_project(store, tmp_path, n=1)
    with pytest.raises(NotFoundError, match=r"no project named 'q'.*projects: p"):
        status(store, "q")
