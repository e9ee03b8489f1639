"""Disagreement-driven relabeling: a sample whose answers disagree gets one more annotator, up to
the cap; agreeing samples do not; nobody answers a sample twice; off, nothing changes."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from labelwise.store import (
    Store,
    StoreError,
    add_annotator,
    create_project,
    enqueue,
    lease_next_task,
    reaggregate,
    submit_annotation,
)
from labelwise.store.aggregation import REVIEW_METHOD
from labelwise.store.members import update_settings
from labelwise.store.relabel import relabel_count
from labelwise.store.schema import Annotation, Label, Task
from tests.store.factories import pool_project, tally_matches_samples

#: Each annotator's answer per sample: a0 and a1 agree on s0 and s1 and differ on s2 and s3;
#: a2 and a3 keep the disagreement going (2 of 3 agree, then 2 of 4).
ANSWERS = {
    "a0": {"s0": "pos", "s1": "neg", "s2": "pos", "s3": "neg"},
    "a1": {"s0": "pos", "s1": "neg", "s2": "neg", "s3": "pos"},
    "a2": {"s0": "neg", "s1": "pos", "s2": "pos", "s3": "neg"},
    "a3": {"s0": "neg", "s1": "pos", "s2": "neg", "s3": "pos"},
}


def _project(store: Store, tmp_path: Path, **relabel: object) -> dict[str, int]:
    """Samples s0..s3 queued with overlap 2, four annotators, the relabel settings given."""
    ids = pool_project(store, tmp_path, n=4, overlap=2, annotators=4)
    if relabel:
        update_settings(store, "p", relabel)
    enqueue(store, "p", [ids[f"s{i}"] for i in range(4)], [4.0, 3.0, 2.0, 1.0])
    return ids


def _drain(store: Store, who: str) -> list[str]:
    """``who`` leases and answers until no task is left for them; the samples they answered."""
    answered = []
    while (lease := lease_next_task(store, "p", who)) is not None:
        submit_annotation(store, lease.task_id, who, ANSWERS[who][lease.external_id])
        answered.append(lease.external_id)
    return answered


def _answers_per_sample(store: Store, ids: dict[str, int]) -> dict[str, int]:
    names = {v: k for k, v in ids.items()}
    with store.read() as session:
        rows = session.execute(
            select(Annotation.sample_id, func.count()).group_by(Annotation.sample_id)
        ).all()
    return {names[sid]: n for sid, n in rows}


def _waiting_tasks(store: Store) -> int:
    with store.read() as session:
        found = session.scalar(select(func.count()).select_from(Task).where(Task.state != "done"))
    return int(found or 0)


def _nobody_answered_twice(store: Store) -> bool:
    with store.read() as session:
        pairs = session.execute(select(Annotation.sample_id, Annotation.annotator_id)).all()
    return max(Counter(pairs).values()) == 1


def test_disagreeing_samples_get_a_third_annotator_and_agreeing_ones_do_not(
    store: Store, tmp_path: Path
) -> None:
    ids = _project(store, tmp_path, relabel_below=0.75)
    assert _drain(store, "a0") == ["s0", "s1", "s2", "s3"]
    assert _drain(store, "a1") == ["s0", "s1", "s2", "s3"]
    assert _drain(store, "a2") == ["s2", "s3"]  # only the samples a0 and a1 disagree on
    assert _drain(store, "a3") == []  # the cap (overlap + 1 = 3) is reached
    assert _drain(store, "a0") == []  # and nobody gets a sample twice
    assert _answers_per_sample(store, ids) == {"s0": 2, "s1": 2, "s2": 3, "s3": 3}
    assert _waiting_tasks(store) == 0
    assert relabel_count(store, "p") == 2
    with store.read() as session:
        labels = dict(session.execute(select(Label.sample_id, Label.value)).all())
        counted = dict(session.execute(select(Label.sample_id, Label.n_annotations)).all())
    assert labels[ids["s2"]] == "pos" and labels[ids["s3"]] == "neg"  # 2 of 3 decide
    assert counted[ids["s2"]] == 3 and counted[ids["s0"]] == 2
    assert _nobody_answered_twice(store)
    assert tally_matches_samples(store)


@pytest.mark.parametrize("cap", [3, 4])
def test_relabeling_stops_at_max_annotators(store: Store, tmp_path: Path, cap: int) -> None:
    ids = _project(store, tmp_path, relabel_below=0.75, max_annotators=cap)
    for who in ("a0", "a1", "a2", "a3", "a0", "a1", "a2", "a3"):
        _drain(store, who)
    found = _answers_per_sample(store, ids)
    assert found == {"s0": 2, "s1": 2, "s2": cap, "s3": cap}
    assert relabel_count(store, "p") == 2 * (cap - 2)
    assert _waiting_tasks(store) == 0
    assert _nobody_answered_twice(store)


def test_with_relabeling_off_every_sample_gets_overlap_answers(
    store: Store, tmp_path: Path
) -> None:
    ids = _project(store, tmp_path)
    for who in ("a0", "a1", "a2", "a3"):
        _drain(store, who)
    assert _answers_per_sample(store, ids) == {f"s{i}": 2 for i in range(4)}
    assert relabel_count(store, "p") == 0
    assert _waiting_tasks(store) == 0


def test_a_threshold_at_the_vote_share_is_not_below_it(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path, relabel_below=0.5)  # two answers that differ: share 0.5
    for who in ("a0", "a1", "a2"):
        _drain(store, who)
    assert _answers_per_sample(store, ids) == {f"s{i}": 2 for i in range(4)}


def test_a_label_a_reviewer_set_is_not_relabeled(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path, relabel_below=0.75, max_annotators=4)
    _drain(store, "a0")
    _drain(store, "a1")
    reviewed = {ids["s2"]: ("neg", None)}
    reaggregate(store, "p", lambda _votes: reviewed, REVIEW_METHOD)
    assert _drain(store, "a2") == ["s2", "s3"]  # s2's third slot was open before the review
    assert _drain(store, "a3") == ["s3"]  # after the review s2 gets no fourth
    with store.read() as session:
        label = session.scalar(select(Label.value).where(Label.sample_id == ids["s2"]))
    assert label == "neg"


def test_two_annotators_racing_for_one_relabel_slot_get_it_once(
    store: Store, tmp_path: Path
) -> None:
    ids = pool_project(store, tmp_path, n=1, overlap=2, annotators=4)
    update_settings(store, "p", {"relabel_below": 0.75})
    enqueue(store, "p", [ids["s0"]])
    for who, value in (("a0", "pos"), ("a1", "neg")):
        lease = lease_next_task(store, "p", who)
        assert lease is not None
        submit_annotation(store, lease.task_id, who, value)
    start = threading.Barrier(2)
    got: dict[str, object] = {}

    def take(who: str) -> None:
        start.wait()
        got[who] = lease_next_task(store, "p", who)

    threads = [threading.Thread(target=take, args=(who,)) for who in ("a2", "a3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(v is None for v in got.values()) == [False, True]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"relabel_below": 0}, "relabel_below"),
        ({"relabel_below": 1.5}, "relabel_below"),
        ({"relabel_below": "half"}, "relabel_below"),
        ({"relabel_below": True}, "relabel_below"),
        ({"relabel_below": float("nan")}, "relabel_below"),
        ({"max_annotators": 1}, "max_annotators"),
        ({"max_annotators": 2.5}, "max_annotators"),
        ({"relabel_below": 0.8, "max_annotators": 2}, "max_annotators"),
    ],
)
def test_bad_relabel_settings_are_refused_naming_the_setting(
    store: Store, tmp_path: Path, changes: dict[str, object], field: str
) -> None:
    pool_project(store, tmp_path, n=1, overlap=2)
    with pytest.raises(StoreError, match=field):
        update_settings(store, "p", changes)


def test_relabeling_is_refused_for_a_number_project(store: Store) -> None:
    create_project(store, "n", [], answer_kind="number", settings={"overlap": 2})
    add_annotator(store, "a0")
    with pytest.raises(StoreError, match="relabel_below applies to label"):
        update_settings(store, "n", {"relabel_below": 0.8})
    with pytest.raises(StoreError, match="relabel_below"):
        create_project(
            store, "m", [], answer_kind="number", settings={"overlap": 2, "relabel_below": 0.8}
        )


def _answer_at(start: threading.Barrier, store: Store, who: str, task_id: int, value: str) -> None:
    start.wait()
    submit_annotation(store, task_id, who, value)


def test_answers_to_one_sample_at_the_same_moment_complete_its_label_once(
    store: Store, tmp_path: Path
) -> None:
    """Both answers of an overlap-2 sample arrive together: the later one sees the earlier (a
    lock on the sample), so the label is written and exactly one relabel slot is added."""
    ids = pool_project(store, tmp_path, n=8, overlap=2, annotators=2)
    update_settings(store, "p", {"relabel_below": 0.75})
    enqueue(store, "p", [ids[f"s{i}"] for i in range(8)])
    for _ in range(8):
        leases = [lease_next_task(store, "p", who) for who in ("a0", "a1")]
        assert leases[0] is not None and leases[1] is not None
        assert leases[0].sample_id == leases[1].sample_id
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=_answer_at, args=(start, store, who, lease.task_id, value))
            for who, lease, value in zip(("a0", "a1"), leases, ("pos", "neg"), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with store.read() as session:
        labeled = session.scalar(select(func.count()).select_from(Label))
    assert labeled == 8
    assert _waiting_tasks(store) == 8  # one relabel slot per sample, never two
    assert relabel_count(store, "p") == 8
    assert tally_matches_samples(store)
