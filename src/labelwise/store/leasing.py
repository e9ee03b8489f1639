"""Leasing a task: the open task of highest score goes to one annotator until its lease ends.

A queued sample has ``overlap`` tasks, each a slot for one annotator, so no sample is held by
more annotators than the overlap. :func:`lease_next_task` hands out the open task of highest
priority (the strategy's score; ties: newest first) that this annotator has not had on that
sample; a lease whose time ran out goes back to the queue at the next lease call (one indexed
query on ``ix_task_expiry``). With a gold fraction f, every annotator's n-th task is a gold
question whenever floor(n f) grows (see :mod:`labelwise.store.gold`). A project's ``budget``
(annotations) holds here, in the lease's transaction, for every caller: no new lease once the
standing answers and the live leases reach it.

This is the hot path of the annotation service: the statements of :mod:`labelwise.store._hot`
(SQLAlchemy Core, built once, compiled per dialect), a handful per lease, all in one
transaction with the audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from labelwise.store import _hot, gold
from labelwise.store._statement import Driver
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import NotFoundError, StoreError
from labelwise.store.projects import get_project

__all__ = ["TaskLease", "budget_left", "lease_next_task"]


@dataclass(frozen=True)
class TaskLease:
    """A task leased to an annotator: what to show and until when the lease holds."""

    task_id: int
    sample_id: int
    external_id: str
    text: str | None
    uri: str | None
    priority: float
    annotator: str
    expires_at: datetime


@dataclass(frozen=True)
class ProjectRef:
    """The project a lease or an answer happens in: its id and its budget (None: none)."""

    id: int
    budget: int | None


def check_lease_args(lease_seconds: float, gold_fraction: float) -> None:
    """Refuse a lease length or gold fraction out of range (before any transaction)."""
    if not lease_seconds > 0:
        raise StoreError(f"lease_seconds must be positive, got {lease_seconds}")
    if not 0.0 <= gold_fraction < 1.0:
        raise StoreError(f"gold_fraction must lie in [0, 1), got {gold_fraction}")


def project_of(driver: Driver, store: Store, name: str) -> ProjectRef:
    """The project called ``name`` (NotFoundError naming the projects there are otherwise)."""
    found = driver.first(_hot.PROJECT, name=name)
    if found is None:
        get_project(store, name)  # raises, naming the projects there are
        raise NotFoundError(f"no project named {name!r} in the store")  # pragma: no cover
    return ProjectRef(int(found[0]), budget_of(found[1]))


def budget_of(settings: dict[str, Any] | None) -> int | None:
    """The budget of a project's settings, None when it has none."""
    budget = (settings or {}).get("budget")
    return None if budget is None else int(budget)


def annotator_id_of(driver: Driver, name: str) -> int:
    """The id of the annotator called ``name``, or NotFoundError."""
    found = driver.scalar(_hot.ANNOTATOR_ID, name=name)
    if found is None:
        raise NotFoundError(f"no annotator named {name!r}: add one with add_annotator first")
    return int(found)


def lease_next_task(
    store: Store,
    project: str,
    annotator: str,
    lease_seconds: float = 600.0,
    *,
    gold_fraction: float = 0.0,
    now: datetime | None = None,
) -> TaskLease | None:
    """Lease the open task of highest score to ``annotator``, or None when there is none.

    An annotator who already holds a live lease in the project gets that task back. Leases
    that expired (``lease_seconds`` after they were given) return to the queue first. With
    ``gold_fraction`` > 0, gold questions the annotator has not answered are mixed in at that
    rate; the lease does not tell them apart from other tasks. None as well when the project's
    budget is spent (:func:`budget_left` says so).
    """
    check_lease_args(lease_seconds, gold_fraction)
    with store.driver_write() as driver:
        ref = project_of(driver, store, project)
        pending = _hot.Pending(ref.id)
        who = annotator_id_of(driver, annotator)
        now = now or utcnow()
        lease = lease_in(driver, pending, ref, who, annotator, lease_seconds, gold_fraction, now)
        pending.flush(driver)
    return lease


def budget_left(store: Store, project: str) -> int | None:
    """Leases the project's budget still allows (answers and live leases count), or None
    when it has no budget."""
    with store.driver_read() as driver:
        ref = project_of(driver, store, project)
        if ref.budget is None:
            return None
        return max(0, ref.budget - _budget_used(driver, ref.id))


def _budget_used(driver: Driver, project_id: int) -> int:
    found = driver.first(_hot.BUDGET_USED, pid=project_id)
    assert found is not None
    return int(found[0]) + int(found[1])


def lease_in(
    driver: Driver,
    pending: _hot.Pending,
    project: ProjectRef,
    who: int,
    annotator: str,
    lease_seconds: float,
    gold_fraction: float,
    now: datetime,
) -> TaskLease | None:
    """:func:`lease_next_task` inside the caller's write transaction.

    ``who`` is the annotator's id; the tally moves and the audit row go to ``pending``, which
    the caller flushes before the transaction ends.
    """
    project_id = pending.project_id
    reclaimed = _reclaim_expired(driver, pending, now)
    held = driver.scalar(_hot.HELD, pid=project_id, who=who, now=now)
    lease = None if held is None else _lease_of(driver, int(held), annotator)
    if lease is not None:
        return lease
    if project.budget is not None:
        driver.run(_hot.LOCK_PROJECT, pid=project_id)  # PostgreSQL: budgeted leases queue
        if _budget_used(driver, project_id) >= project.budget:
            return None
    if gold_fraction > 0 and gold.gold_due(driver, project_id, who, gold_fraction):
        question = gold.lease_gold(driver, pending, who, now, lease_seconds)
        lease = None if question is None else _lease_of(driver, question, annotator)
        if lease is not None:
            return lease
    picked = driver.first(_hot.PICK, pid=project_id, who=who)
    if picked is None:
        return None
    task_id, sample_id, external_id, text, uri, priority, split, state = picked
    until = now + timedelta(seconds=lease_seconds)
    driver.run(_hot.TAKE, tid=task_id, who=who, now=now, until=until)
    if state == "queued":
        _hot.move_sample(driver, pending, sample_id, split, "queued", "in_progress")
    pending.record(
        annotator,
        "lease",
        "task",
        task_id,
        sample_id=sample_id,
        seconds=lease_seconds,
        reclaimed=reclaimed,
    )
    return TaskLease(task_id, sample_id, external_id, text, uri, priority, annotator, until)


def _reclaim_expired(driver: Driver, pending: _hot.Pending, now: datetime) -> int:
    """Return leases whose time ran out to the queue; samples nobody holds become queued."""
    expired = driver.all(_hot.EXPIRED, pid=pending.project_id, now=now)
    if not expired:
        return 0
    driver.many(_hot.RELEASE, [{"tid": task_id, "now": now} for task_id, _ in expired])
    for sample_id in sorted({sample_id for _, sample_id in expired}):
        busy = driver.scalar(_hot.BUSY, sid=sample_id)
        found = driver.first(_hot.SAMPLE_STATE, sid=sample_id)
        if not busy and found is not None and found[1] == "in_progress":
            _hot.move_sample(driver, pending, sample_id, found[0], "in_progress", "queued")
    return len(expired)


def _lease_of(driver: Driver, task_id: int, annotator: str) -> TaskLease | None:
    """The lease on ``task_id``; None when it is no longer leased: on PostgreSQL another
    transaction may reclaim a lease that expired between the caller's read and this one."""
    found = driver.first(_hot.LEASE_VIEW, tid=task_id)
    if found is None:  # pragma: no cover - the caller just read or wrote this task
        raise NotFoundError(f"no task {task_id} in the store")
    if found[6] is None:
        return None
    return TaskLease(
        task_id=found[0],
        sample_id=found[1],
        external_id=found[2],
        text=found[3],
        uri=found[4],
        priority=found[5],
        annotator=annotator,
        expires_at=found[6],
    )
