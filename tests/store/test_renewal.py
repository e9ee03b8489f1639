"""Renewing a lease (the open page's heartbeat), on SQLite and PostgreSQL.

Only the holder renews, only while the lease is live; a renewal starts the lease over from
now; a task whose page was closed returns to the queue once its (short, default) lease ends.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from labelwise.controller import LoopSettings
from labelwise.store import (
    LeaseError,
    Store,
    StoreError,
    enqueue,
    lease_next_task,
    renew_lease,
    submit_annotation,
)
from labelwise.store.engine import utcnow
from labelwise.store.schema import Task
from tests.store.factories import pool_project


def _one_leased(store: Store, tmp_path: Path, who: str = "a0", seconds: float = 120.0):
    ids = pool_project(store, tmp_path, n=3)
    enqueue(store, "p", [ids["s0"]], [1.0])
    now = utcnow()
    lease = lease_next_task(store, "p", who, seconds, now=now)
    assert lease is not None
    return lease, now


def _stored_expiry(store: Store, task_id: int):
    with store.read() as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task.lease_expires_at


def test_the_holder_renews_a_live_lease_from_now(store: Store, tmp_path: Path) -> None:
    lease, t0 = _one_leased(store, tmp_path, seconds=120)
    later = t0 + timedelta(seconds=100)
    until = renew_lease(store, lease.task_id, "a0", 120, now=later)
    assert until == later + timedelta(seconds=120)
    assert _stored_expiry(store, lease.task_id) == until
    # the lease now holds past its first expiry: nobody else gets the task then
    assert lease_next_task(store, "p", "a1", 120, now=t0 + timedelta(seconds=150)) is None


def test_someone_else_cannot_renew(store: Store, tmp_path: Path) -> None:
    lease, t0 = _one_leased(store, tmp_path)
    with pytest.raises(LeaseError, match="not leased to 'a1'"):
        renew_lease(store, lease.task_id, "a1", 120, now=t0)
    assert _stored_expiry(store, lease.task_id) == lease.expires_at


def test_an_expired_lease_is_not_renewed(store: Store, tmp_path: Path) -> None:
    lease, t0 = _one_leased(store, tmp_path, seconds=120)
    with pytest.raises(LeaseError, match="expired"):
        renew_lease(store, lease.task_id, "a0", 120, now=t0 + timedelta(seconds=121))


def test_an_answered_task_is_not_renewed(store: Store, tmp_path: Path) -> None:
    lease, _ = _one_leased(store, tmp_path)
    submit_annotation(store, lease.task_id, "a0", "pos")
    with pytest.raises(LeaseError):
        renew_lease(store, lease.task_id, "a0", 120)


def test_an_unknown_task_is_not_renewed(store: Store, tmp_path: Path) -> None:
    _one_leased(store, tmp_path)
    with pytest.raises(LeaseError):
        renew_lease(store, 987_654, "a0", 120)


@pytest.mark.parametrize("seconds", [0, -5, float("nan"), float("inf")])
def test_a_renewal_needs_a_positive_finite_length(
    store: Store, tmp_path: Path, seconds: float
) -> None:
    lease, _ = _one_leased(store, tmp_path)
    with pytest.raises(StoreError, match="positive number of seconds"):
        renew_lease(store, lease.task_id, "a0", seconds)
    assert _stored_expiry(store, lease.task_id) == lease.expires_at


def test_an_abandoned_task_returns_to_the_queue_after_the_default_lease(
    store: Store, tmp_path: Path
) -> None:
    default = LoopSettings().lease_seconds
    assert default <= 120  # "an abandoned task returns within about 2 minutes"
    lease, t0 = _one_leased(store, tmp_path, seconds=default)
    # while the lease holds, the only queued task is nobody else's
    assert lease_next_task(store, "p", "a1", default, now=t0 + timedelta(seconds=60)) is None
    # the page was closed: no heartbeat came, and the lease ran out
    back = lease_next_task(store, "p", "a1", default, now=t0 + timedelta(seconds=default + 1))
    assert back is not None
    assert back.sample_id == lease.sample_id
    with pytest.raises(LeaseError):
        renew_lease(store, lease.task_id, "a0", default, now=t0 + timedelta(seconds=default + 2))
