"""The annotation service's hot path: answer-and-lease in one transaction, concurrent leases,
the in-process writer lock of SQLite, and the deferred tally and audit writes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from labelwise.store import (
    LeaseError,
    Store,
    StoreError,
    enqueue,
    lease_next_task,
    status,
    submit_annotation,
)
from labelwise.store.engine import utcnow
from labelwise.store.queue import submit_and_lease_next
from labelwise.store.schema import Annotation, Audit, Label, Task
from labelwise.store.tasks import project_info, task_view
from tests.store.factories import pool_project, snapshot, tally_matches_samples


def _audit_actions(store: Store) -> Counter[str]:
    with store.read() as session:
        return Counter(
            dict(session.execute(select(Audit.action, func.count()).group_by(Audit.action)).all())
        )


def test_answer_and_next_lease_come_in_one_call(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=3)
    enqueue(store, "p", [ids["s0"], ids["s1"], ids["s2"]], [3.0, 2.0, 1.0])
    first = lease_next_task(store, "p", "a0")
    assert first is not None and first.sample_id == ids["s0"]
    before = _audit_actions(store)
    record, following = submit_and_lease_next(store, first.task_id, "a0", "pos", 2.0)
    assert record.value == "pos" and record.label == "pos" and record.task_id == first.task_id
    assert following is not None and following.sample_id == ids["s1"]  # next by score
    after = _audit_actions(store)
    assert after["annotate"] - before["annotate"] == 1
    assert after["lease"] - before["lease"] == 1
    assert tally_matches_samples(store)
    counts = status(store, "p")
    assert counts.annotations == 1
    # the same as the two calls one after the other
    record2, last = submit_and_lease_next(store, following.task_id, "a0", "neg")
    assert record2.label == "neg" and last is not None and last.sample_id == ids["s2"]
    _, none_left = submit_and_lease_next(store, last.task_id, "a0", "pos")
    assert none_left is None
    assert tally_matches_samples(store)


def test_answer_and_next_sent_again_changes_nothing(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=2)
    enqueue(store, "p", [ids["s0"], ids["s1"]], [2.0, 1.0])
    first = lease_next_task(store, "p", "a0")
    assert first is not None
    record, following = submit_and_lease_next(store, first.task_id, "a0", "pos")
    before = snapshot(store)
    again, held = submit_and_lease_next(store, first.task_id, "a0", "pos")
    assert again == record
    assert held is not None and following is not None and held.task_id == following.task_id
    assert snapshot(store) == before  # the live lease came back; nothing was written
    with pytest.raises(LeaseError, match="already answered"):
        submit_and_lease_next(store, first.task_id, "a0", "neg")


def test_a_refused_answer_leases_nothing(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=2)
    enqueue(store, "p", [ids["s0"], ids["s1"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    before = snapshot(store)
    with pytest.raises(StoreError, match="not in project"):
        submit_and_lease_next(store, lease.task_id, "a0", "maybe")
    with pytest.raises(LeaseError, match="not leased to 'a1'"):
        submit_and_lease_next(store, lease.task_id, "a1", "pos")
    with pytest.raises(StoreError, match="lease_seconds"):
        submit_and_lease_next(store, lease.task_id, "a0", "pos", lease_seconds=0)
    assert snapshot(store) == before


def test_answer_and_next_returns_expired_leases_first(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=2)
    enqueue(store, "p", [ids["s0"], ids["s1"]], [2.0, 1.0])
    start = utcnow()
    lost = lease_next_task(store, "p", "a1", lease_seconds=10, now=start)  # s0, never answered
    mine = lease_next_task(store, "p", "a0", lease_seconds=60, now=start)  # s1
    assert lost is not None and mine is not None and lost.sample_id == ids["s0"]
    later = start + timedelta(seconds=30)
    _, following = submit_and_lease_next(store, mine.task_id, "a0", "pos", now=later)
    assert following is not None and following.task_id == lost.task_id
    assert tally_matches_samples(store)


def test_overlap_two_labels_after_the_second_answer(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=1, overlap=2, annotators=2)
    enqueue(store, "p", [ids["s0"]])
    a = lease_next_task(store, "p", "a0")
    b = lease_next_task(store, "p", "a1")
    assert a is not None and b is not None
    first, _ = submit_and_lease_next(store, a.task_id, "a0", "neg")
    assert first.label is None
    second, _ = submit_and_lease_next(store, b.task_id, "a1", "pos")
    assert second.label == "neg"  # a tie goes to the answer given first
    with store.read() as session:
        label = session.get(Label, ids["s0"])
        assert label is not None and label.n_annotations == 2 and label.agreement == 0.5
    assert tally_matches_samples(store)


def test_concurrent_annotators_never_share_a_sample(store: Store, tmp_path: Path) -> None:
    n, workers = 60, 6
    ids = pool_project(store, tmp_path, n=n, annotators=workers)
    enqueue(store, "p", [ids[f"s{i}"] for i in range(n)], [float(i) for i in range(n)])
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            lease = lease_next_task(store, "p", f"a{k}")
            while lease is not None:
                _, lease = submit_and_lease_next(store, lease.task_id, f"a{k}", "pos")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    with store.read() as session:
        per_sample = session.execute(
            select(Annotation.sample_id, func.count()).group_by(Annotation.sample_id)
        ).all()
        open_tasks = session.scalar(
            select(func.count()).select_from(Task).where(Task.state != "done")
        )
    assert len(per_sample) == n and all(count == 1 for _, count in per_sample)
    assert open_tasks == 0
    assert status(store, "p").annotations == n
    assert tally_matches_samples(store)


def test_sqlite_writers_of_one_process_take_turns(tmp_path: Path) -> None:
    from labelwise.store import init_store

    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    inside, most = 0, 0
    guard = threading.Lock()

    def write() -> None:
        nonlocal inside, most
        with store.write():
            with guard:
                inside += 1
                most = max(most, inside)
            time.sleep(0.01)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    store.close()
    assert most == 1  # one at a time, handed over by the lock, not by SQLite's busy sleeps


def test_task_and_project_lookups_match_the_store(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=1, overlap=2)
    enqueue(store, "p", [ids["s0"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    view = task_view(store, lease.task_id)
    assert (view.project, view.state, view.annotator) == ("p", "leased", "a0")
    assert view.sample.id == ids["s0"] and view.label_space == ("neg", "pos")
    info = project_info(store, "p")
    assert info.name == "p" and info.label_space == ("neg", "pos") and info.overlap == 2
    with pytest.raises(LookupError, match="no project named 'nope'"):
        project_info(store, "nope")
    with pytest.raises(LookupError, match="no task"):
        task_view(store, 10**9)


def test_plain_submit_still_writes_its_tally_and_audit(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=1)
    enqueue(store, "p", [ids["s0"]])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    before = _audit_actions(store)
    submit_annotation(store, lease.task_id, "a0", "pos")
    assert _audit_actions(store)["annotate"] == before["annotate"] + 1
    assert status(store, "p").by_state.get("labeled") == 1
    assert tally_matches_samples(store)


def test_rows_of_the_hot_path_read_back_as_the_orm_wrote_them(store: Store, tmp_path: Path) -> None:
    """SQLite's driver-level path stores times, JSON and numbers as SQLAlchemy does."""
    ids = pool_project(store, tmp_path, n=1)
    enqueue(store, "p", [ids["s0"]], [0.25])
    now = utcnow().replace(microsecond=123456)
    lease = lease_next_task(store, "p", "a0", 60.0, now=now)
    assert lease is not None and lease.expires_at == now + timedelta(seconds=60)
    record = submit_annotation(store, lease.task_id, "a0", "pos", 1.5, now=now)
    with store.read() as session:
        task = session.get_one(Task, lease.task_id)
        annotation = session.get_one(Annotation, record.id)
        label = session.get_one(Label, ids["s0"])
        audit = session.scalars(select(Audit).where(Audit.action == "annotate")).one()
    assert (task.leased_at, task.lease_expires_at, task.priority) == (
        now,
        lease.expires_at,
        0.25,
    )
    assert (annotation.created_at, annotation.seconds_spent, annotation.retracted_at) == (
        now,
        1.5,
        None,
    )
    assert (label.value, label.method, label.agreement, label.updated_at) == (
        "pos",
        "majority",
        1.0,
        now,
    )
    assert audit.detail == {"task_id": lease.task_id, "sample_id": ids["s0"], "value": "pos"}
    assert isinstance(audit.at, type(now)) and audit.object_id == str(record.id)
