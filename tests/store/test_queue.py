"""Queue, leases and annotations: order by score, overlap, expiry, idempotence, refusals."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelwise.store import (
    LeaseError,
    NotFoundError,
    Store,
    StoreError,
    TaskLease,
    enqueue,
    lease_next_task,
    list_samples,
    majority,
    reaggregate,
    record_round,
    status,
    submit_annotation,
    why_chosen,
)
from labelwise.store.engine import utcnow
from tests.store.factories import pool_project, snapshot, tally_matches_samples


def test_tasks_are_leased_in_order_of_score(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=5)
    scores = {"s0": 0.1, "s1": 0.9, "s2": 0.5, "s3": 0.7, "s4": 0.3}
    enqueue(store, "p", [ids[k] for k in scores], list(scores.values()))
    served = []
    while (lease := lease_next_task(store, "p", "a0")) is not None:
        served.append(lease.external_id)
        submit_annotation(store, lease.task_id, "a0", "pos")
    assert served == sorted(scores, key=lambda k: -scores[k])
    assert status(store, "p").by_state["labeled"] == 5
    assert tally_matches_samples(store)


def test_the_eval_split_is_never_queued(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path)
    before = snapshot(store)
    with pytest.raises(StoreError, match="eval split"):
        enqueue(store, "p", [ids["s0"], ids["ev"]], [1.0, 2.0])
    assert snapshot(store) == before


def test_unknown_or_labeled_samples_are_refused(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path)
    with pytest.raises(NotFoundError):
        enqueue(store, "p", [123456789])
    enqueue(store, "p", [ids["s0"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    submit_annotation(store, lease.task_id, "a0", "neg")
    with pytest.raises(StoreError, match="already labeled"):
        enqueue(store, "p", [ids["s0"]])


def test_no_sample_goes_to_more_annotators_than_the_overlap(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=1, overlap=2, annotators=3)
    enqueue(store, "p", [ids["s0"]], [1.0])
    first = lease_next_task(store, "p", "a0")
    second = lease_next_task(store, "p", "a1")
    assert first is not None and second is not None
    assert first.task_id != second.task_id
    assert lease_next_task(store, "p", "a2") is None  # both slots are taken


def test_an_annotator_never_gets_the_same_sample_twice(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=1, overlap=2, annotators=1)
    enqueue(store, "p", [ids["s0"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    submit_annotation(store, lease.task_id, "a0", "pos")
    assert lease_next_task(store, "p", "a0") is None


def test_an_expired_lease_returns_to_the_queue(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=1)
    enqueue(store, "p", [ids["s0"]])
    start = utcnow()
    lease = lease_next_task(store, "p", "a0", lease_seconds=60, now=start)
    assert lease is not None
    assert lease_next_task(store, "p", "a1", now=start + timedelta(seconds=30)) is None
    later = start + timedelta(seconds=61)
    taken = lease_next_task(store, "p", "a1", now=later)
    assert taken is not None and taken.task_id == lease.task_id
    with pytest.raises(LeaseError, match="not leased to 'a0'"):
        submit_annotation(store, lease.task_id, "a0", "pos", now=later)
    assert tally_matches_samples(store)


def test_an_expired_lease_cannot_be_answered(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=1)
    enqueue(store, "p", [ids["s0"]])
    start = utcnow()
    lease = lease_next_task(store, "p", "a0", lease_seconds=10, now=start)
    assert lease is not None
    before = snapshot(store)
    with pytest.raises(LeaseError, match="expired"):
        submit_annotation(store, lease.task_id, "a0", "pos", now=start + timedelta(seconds=11))
    assert snapshot(store) == before


def test_submitting_twice_is_idempotent(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=1)
    enqueue(store, "p", [ids["s0"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    first = submit_annotation(store, lease.task_id, "a0", "pos", seconds_spent=3.5)
    before = snapshot(store)
    again = submit_annotation(store, lease.task_id, "a0", "pos", seconds_spent=3.5)
    assert again == first
    assert snapshot(store) == before
    with pytest.raises(LeaseError, match="already answered"):
        submit_annotation(store, lease.task_id, "a0", "neg")


@pytest.mark.parametrize(
    ("task", "annotator", "value", "error", "match"),
    [
        (None, "a0", "maybe", StoreError, "not in project 'p'"),
        (10**9, "a0", "pos", NotFoundError, "no task"),
        (None, "nobody", "pos", NotFoundError, "no annotator named 'nobody'"),
        (None, "a1", "pos", LeaseError, "not leased to 'a1'"),
    ],
)
def test_bad_submissions_are_refused_and_change_nothing(
    store: Store,
    tmp_path: Path,
    task: int | None,
    annotator: str,
    value: str,
    error: type[Exception],
    match: str,
) -> None:
    ids = pool_project(store, tmp_path, n=1)
    enqueue(store, "p", [ids["s0"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    before = snapshot(store)
    with pytest.raises(error, match=match):
        submit_annotation(store, task or lease.task_id, annotator, value)
    assert snapshot(store) == before


def test_majority_of_three_becomes_the_label(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=1, overlap=3, annotators=3)
    enqueue(store, "p", [ids["s0"]])
    answers = {"a0": "neg", "a1": "pos", "a2": "pos"}
    results = []
    for name, value in answers.items():
        lease = lease_next_task(store, "p", name)
        assert lease is not None
        results.append(submit_annotation(store, lease.task_id, name, value).label)
    assert results == [None, None, "pos"]
    assert status(store, "p").by_class == {"neg": 0, "pos": 1}
    assert {s.external_id: s.state for s in list_samples(store, "p")}["s0"] == "labeled"


def slow_majority(values: list[str]) -> tuple[str, float]:
    best, best_count = values[0], 0
    for value in values:  # first-given wins ties: only a strictly larger count replaces it
        count = sum(1 for other in values if other == value)
        if count > best_count:
            best, best_count = value, count
    return best, best_count / len(values)


@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=12))
def test_majority_equals_a_literal_count(values: list[str]) -> None:
    assert majority(values) == slow_majority(values)
    assert majority(values)[0] in Counter(values)


def test_reaggregate_hook_rewrites_labels(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=2)
    enqueue(store, "p", [ids["s0"], ids["s1"]])
    for _ in range(2):
        lease = lease_next_task(store, "p", "a0")
        assert lease is not None
        submit_annotation(store, lease.task_id, "a0", "pos")
    written = reaggregate(
        store, "p", lambda votes: {v.sample_id: ("neg", 0.5) for v in votes}, "flip"
    )
    assert written == 2
    assert status(store, "p").by_class == {"neg": 2, "pos": 0}


def test_scores_of_every_round_answer_why_a_sample_was_chosen(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=3)
    pool = [ids["s0"], ids["s1"], ids["s2"]]
    first = record_round(store, "p", "entropy", sample_ids=pool, scores=[0.2, 0.9, 0.4])
    enqueue(store, "p", [ids["s1"]], [0.9], round_number=first.number)
    record_round(store, "p", "margin", model_version="m2", sample_ids=pool, scores=[0.8, 0.9, 0.1])
    history = why_chosen(store, "p", "s1")
    assert [(h.round_number, h.strategy, h.score, h.selected) for h in history] == [
        (1, "entropy", 0.9, True),
        (2, "margin", 0.9, False),
    ]


def _lease_at(
    start: threading.Barrier, store: Store, who: str, got: dict[str, TaskLease | None]
) -> None:
    start.wait()
    got[who] = lease_next_task(store, "p", who)


def test_two_leases_of_one_sample_at_the_same_moment_count_it_in_progress_once(
    store: Store, tmp_path: Path
) -> None:
    """Both leases read the sample as queued; only the first moves it (PostgreSQL)."""
    ids = pool_project(store, tmp_path, n=8, overlap=2, annotators=2)
    enqueue(store, "p", [ids[f"s{i}"] for i in range(8)])
    for _ in range(8):
        start, got = threading.Barrier(2), dict[str, TaskLease | None]()
        threads = [
            threading.Thread(target=_lease_at, args=(start, store, who, got))
            for who in ("a0", "a1")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for who, lease in got.items():
            assert lease is not None
            submit_annotation(store, lease.task_id, who, "pos")
    assert tally_matches_samples(store)
