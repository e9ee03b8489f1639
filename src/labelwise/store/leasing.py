"""Leasing a task: the open task of highest score goes to one annotator until its lease ends.

A queued sample has ``overlap`` tasks, each a slot for one annotator, so no sample is held by
more annotators than the overlap. :func:`lease_next_task` hands out the open task of highest
priority (the strategy's score; ties: newest first) that this annotator has not had on that
sample; a lease whose time ran out goes back to the queue at the next lease call (one indexed
query on ``ix_task_expiry``). With a gold fraction f, every annotator's n-th task is a gold
question whenever floor(n f) grows (see :mod:`labelwise.store.gold`).

This is the hot path of the annotation service: on SQLite its statements are fixed SQL run on
the driver's connection (:mod:`labelwise.store._sqlite_hot`), on PostgreSQL SQLAlchemy Core
built once (:mod:`labelwise.store._hot`); a handful per lease, all in one transaction with the
audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from labelwise.store import _hot, _sqlite_hot, gold
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import NotFoundError, StoreError
from labelwise.store.projects import annotator_row, project_row
from labelwise.store.schema import Task

__all__ = ["TaskLease", "lease_next_task"]


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


def check_lease_args(lease_seconds: float, gold_fraction: float) -> None:
    """Refuse a lease length or gold fraction out of range (before any transaction)."""
    if not lease_seconds > 0:
        raise StoreError(f"lease_seconds must be positive, got {lease_seconds}")
    if not 0.0 <= gold_fraction < 1.0:
        raise StoreError(f"gold_fraction must lie in [0, 1), got {gold_fraction}")


def project_id_of(session: Session, name: str) -> int:
    """The id of the project called ``name`` (NotFoundError naming the projects otherwise)."""
    found = session.connection().scalar(_hot.PROJECT_ID, {"name": name})
    return project_row(session, name).id if found is None else int(found)


def annotator_id_of(session: Session, name: str) -> int:
    """The id of the annotator called ``name``, or NotFoundError."""
    found = session.connection().scalar(_hot.ANNOTATOR_ID, {"name": name})
    return annotator_row(session, name).id if found is None else int(found)


def lease_next_task(
    store: Store,
    project: str,
    annotator: str,
    lease_seconds: float = 600.0,
    *,
    gold_fraction: float = 0.0,
    now: datetime | None = None,
) -> TaskLease | None:
    """Lease the open task of highest score to ``annotator``, or None when the queue is empty.

    An annotator who already holds a live lease in the project gets that task back. Leases
    that expired (``lease_seconds`` after they were given) return to the queue first. With
    ``gold_fraction`` > 0, gold questions the annotator has not answered are mixed in at that
    rate; the lease does not tell them apart from other tasks.
    """
    check_lease_args(lease_seconds, gold_fraction)
    if store.dialect == "sqlite":
        return _sqlite_lease(store, project, annotator, lease_seconds, gold_fraction, now)
    with store.write() as session:
        project_id = project_id_of(session, project)
        pending = _hot.Pending(project_id)
        lease = lease_in(
            session,
            pending,
            annotator_id_of(session, annotator),
            annotator,
            lease_seconds,
            gold_fraction,
            now or utcnow(),
        )
        pending.flush(session.connection())
        return lease


def _sqlite_lease(
    store: Store,
    project: str,
    annotator: str,
    lease_seconds: float,
    gold_fraction: float,
    now: datetime | None,
) -> TaskLease | None:
    """:func:`lease_next_task` on SQLite's driver connection (see :mod:`._sqlite_hot`)."""
    with store.sqlite_write() as conn:
        cur = conn.cursor()
        pending = _hot.Pending(_sqlite_hot.project_id(cur, store, project))
        who = _sqlite_hot.annotator_id(cur, annotator)
        found = _sqlite_hot.lease_in(
            cur, pending, who, annotator, lease_seconds, gold_fraction, now or utcnow()
        )
        _sqlite_hot.flush(cur, pending)
    return None if found is None else lease_from_row(found, annotator)


def lease_from_row(row: tuple[Any, ...], annotator: str) -> TaskLease:
    """A TaskLease from the row :func:`labelwise.store._sqlite_hot.lease_in` returns."""
    task_id, external_id, text, uri, priority, expires_at, sample_id = row
    return TaskLease(task_id, sample_id, external_id, text, uri, priority, annotator, expires_at)


def lease_in(
    session: Session,
    pending: _hot.Pending,
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
    conn = session.connection()
    project_id = pending.project_id
    reclaimed = _reclaim_expired(conn, pending, now)
    held = conn.scalar(_hot.HELD, {"pid": project_id, "who": who, "now": now})
    if held is not None:
        return _lease_of(conn, int(held), annotator)
    if gold_fraction > 0 and gold.gold_due(session, project_id, who, gold_fraction):
        question = gold.lease_gold(session, project_id, who, now, lease_seconds)
        if question is not None:
            return _lease_of(conn, question.id, annotator)
    pick = _hot.PICK_PG if conn.dialect.name == "postgresql" else _hot.PICK
    picked = conn.execute(pick, {"pid": project_id, "who": who}).first()
    if picked is None:
        return None
    task_id, sample_id, external_id, text, uri, priority, split, state = picked
    until = now + timedelta(seconds=lease_seconds)
    conn.execute(_hot.TAKE, {"tid": task_id, "who": who, "now": now, "until": until})
    if state == "queued":
        _hot.set_sample_state(conn, sample_id, "in_progress")
        pending.move(split, "queued", "in_progress")
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


def _reclaim_expired(conn: Connection, pending: _hot.Pending, now: datetime) -> int:
    """Return leases whose time ran out to the queue; samples nobody holds become queued."""
    expired = conn.execute(_hot.EXPIRED, {"pid": pending.project_id, "now": now}).all()
    if not expired:
        return 0
    conn.execute(
        update(Task)
        .where(Task.id.in_([task_id for task_id, _ in expired]))
        .values(state="open", annotator_id=None, leased_at=None, lease_expires_at=None)
    )
    for sample_id in sorted({sample_id for _, sample_id in expired}):
        busy = conn.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.sample_id == sample_id, Task.state != "open")
        )
        found = conn.execute(_hot.SAMPLE_STATE, {"sid": sample_id}).first()
        if not busy and found is not None and found[1] == "in_progress":
            _hot.set_sample_state(conn, sample_id, "queued")
            pending.move(found[0], "in_progress", "queued")
    return len(expired)


def _lease_of(conn: Connection, task_id: int, annotator: str) -> TaskLease:
    found = conn.execute(_hot.LEASE_VIEW, {"tid": task_id}).first()
    if found is None:  # pragma: no cover - the caller just read or wrote this task
        raise NotFoundError(f"no task {task_id} in the store")
    assert found[6] is not None
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
