"""The annotation queue: enqueue scored samples, lease tasks by score, take annotations.

A queued sample gets ``overlap`` tasks (the project setting), each a slot for one annotator,
so no sample is ever held by more annotators than the overlap. ``lease_next_task`` hands out
the open task of highest priority (the strategy's score; ties: newest first) that this
annotator has not had on that sample; a lease whose time ran out goes back to the queue at
the next lease call. With a gold fraction f, every annotator's n-th task is a gold question
whenever floor(n f) grows (one in 1/f tasks, evenly spaced; see :mod:`labelwise.store.gold`).
``submit_annotation`` is idempotent per task. Each function is one
transaction with its audit row. Samples of the eval split are never queued (refused here, and
by a CHECK constraint).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from labelwise.store import _audit, _tally, gold
from labelwise.store.aggregation import write_majority_label
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import LeaseError, NotFoundError, StoreError
from labelwise.store.projects import annotator_row, project_row
from labelwise.store.schema import Annotation, Label, Project, Round, Sample, Task

__all__ = ["AnnotationRecord", "TaskLease", "enqueue", "lease_next_task", "submit_annotation"]

_CHUNK = 5_000


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
class AnnotationRecord:
    """An annotation as stored."""

    id: int
    task_id: int | None
    sample_id: int
    annotator: str
    value: str
    created_at: datetime
    label: str | None  # the sample's aggregated label, once enough annotators answered


def _short(ids: Sequence[object]) -> str:
    shown = ", ".join(map(str, ids[:5]))
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def enqueue(
    store: Store,
    project: str,
    sample_ids: Sequence[int],
    scores: Sequence[float] | None = None,
    round_number: int | None = None,
    *,
    actor: str = "labelwise",
) -> int:
    """Queue samples for annotation, ordered by their scores.

    Parameters
    ----------
    sample_ids : sequence of int
        Store ids of pool or gold samples that are unlabeled (or already queued: their open
        tasks take the new score).
    scores : sequence of float, optional
        The acquisition score of each sample (higher is served first); 0 when omitted.
    round_number : int, optional
        The round that chose them (see :func:`labelwise.store.record_round`).

    Returns
    -------
    int
        The number of tasks created (``overlap`` per newly queued sample).
    """
    ids = [int(i) for i in sample_ids]
    values = [0.0] * len(ids) if scores is None else [float(s) for s in scores]
    if len(values) != len(ids):
        raise StoreError(f"{len(ids)} sample ids but {len(values)} scores")
    if len(set(ids)) != len(ids):
        raise StoreError("sample ids to enqueue must be distinct")
    if not all(math.isfinite(v) for v in values):
        raise StoreError("scores must be finite numbers")
    with store.write() as session:
        row = project_row(session, project, lock=True)
        round_id = None if round_number is None else _round_id(session, row.id, round_number)
        states = _states(session, row.id, ids)
        missing = [i for i in ids if i not in states]
        if missing:
            raise NotFoundError(f"samples {_short(missing)} are not in project {project!r}")
        in_eval = [i for i in ids if states[i][0] == "eval"]
        if in_eval:
            raise StoreError(
                f"samples {_short(in_eval)} are in the eval split, which is never queued"
            )
        done = [i for i in ids if states[i][1] in ("labeled", "skipped")]
        if done:
            raise StoreError(f"samples {_short(done)} are already labeled or skipped")
        fresh = [(i, v) for i, v in zip(ids, values, strict=True) if states[i][1] == "unlabeled"]
        again = [(i, v) for i, v in zip(ids, values, strict=True) if states[i][1] != "unlabeled"]
        created = _create_tasks(session, row, fresh, round_id)
        if again:  # one executemany, not one round trip per sample
            session.connection().execute(
                update(Task)
                .where(Task.sample_id == bindparam("sid"), Task.state == "open")
                .values(priority=bindparam("new_priority"), round_id=round_id),
                [{"sid": i, "new_priority": v} for i, v in again],
            )
        _audit.record(
            session,
            actor=actor,
            action="enqueue",
            object_type="project",
            object_id=row.id,
            project_id=row.id,
            detail={"round": round_number, "queued": len(fresh), "reprioritised": len(again)},
        )
        return created


def _round_id(session: Session, project_id: int, number: int) -> int:
    found = session.scalars(
        select(Round.id).where(Round.project_id == project_id, Round.number == number)
    ).first()
    if found is None:
        raise NotFoundError(f"no round {number} in this project")
    return found


def _states(session: Session, project_id: int, ids: list[int]) -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for sample_id, split, state in session.execute(
            select(Sample.id, Sample.split, Sample.state).where(
                Sample.project_id == project_id, Sample.id.in_(chunk)
            )
        ):
            found[sample_id] = (split, state)
    return found


def _create_tasks(
    session: Session, project: Project, fresh: list[tuple[int, float]], round_id: int | None
) -> int:
    if not fresh:
        return 0
    overlap = int(project.settings.get("overlap", 1))
    now = utcnow()
    rows = [
        {
            "project_id": project.id,
            "sample_id": sample_id,
            "round_id": round_id,
            "priority": priority,
            "state": "open",
            "created_at": now,
        }
        for sample_id, priority in fresh
        for _ in range(overlap)
    ]
    session.execute(insert(Task), rows)
    ids = [sample_id for sample_id, _ in fresh]
    splits: dict[str, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for split, n in session.execute(
            select(Sample.split, func.count()).where(Sample.id.in_(chunk)).group_by(Sample.split)
        ):
            splits[split] = splits.get(split, 0) + n
        session.execute(update(Sample).where(Sample.id.in_(chunk)).values(state="queued"))
    for split, n in splits.items():
        _tally.move(session, project.id, split, "unlabeled", "queued", n)
    return len(rows)


def _reclaim_expired(session: Session, project_id: int, now: datetime) -> int:
    """Return leases whose time ran out to the queue; samples nobody holds become queued."""
    expired = session.execute(
        select(Task.id, Task.sample_id).where(
            Task.project_id == project_id, Task.state == "leased", Task.lease_expires_at <= now
        )
    ).all()
    if not expired:
        return 0
    session.execute(
        update(Task)
        .where(Task.id.in_([task_id for task_id, _ in expired]))
        .values(state="open", annotator_id=None, leased_at=None, lease_expires_at=None)
    )
    for sample_id in sorted({sample_id for _, sample_id in expired}):
        busy = session.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.sample_id == sample_id, Task.state != "open")
        )
        sample = session.get(Sample, sample_id)
        if not busy and sample is not None and sample.state == "in_progress":
            sample.state = "queued"
            _tally.move(session, project_id, sample.split, "in_progress", "queued")
    return len(expired)


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
    if not lease_seconds > 0:
        raise StoreError(f"lease_seconds must be positive, got {lease_seconds}")
    if not 0.0 <= gold_fraction < 1.0:
        raise StoreError(f"gold_fraction must lie in [0, 1), got {gold_fraction}")
    now = now or utcnow()
    with store.write() as session:
        row = project_row(session, project)
        who = annotator_row(session, annotator)
        reclaimed = _reclaim_expired(session, row.id, now)
        held = session.scalars(
            select(Task)
            .where(Task.project_id == row.id, Task.state == "leased")
            .where(Task.annotator_id == who.id, Task.lease_expires_at > now)
            .order_by(Task.id)
        ).first()
        if held is not None:
            return _lease_of(session, held, annotator)
        if gold_fraction > 0 and gold.gold_due(session, row.id, who.id, gold_fraction):
            question = gold.lease_gold(session, row.id, who.id, now, lease_seconds)
            if question is not None:
                return _lease_of(session, question, annotator)
        other = aliased(Task)
        query = (
            select(Task)
            .where(Task.project_id == row.id, Task.state == "open")
            .where(
                ~exists().where(
                    and_(other.sample_id == Task.sample_id, other.annotator_id == who.id)
                )
            )
            .order_by(Task.priority.desc(), Task.id.desc())
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Task)
        task = session.scalars(query).first()
        if task is None:
            return None
        task.state = "leased"
        task.annotator_id = who.id
        task.leased_at = now
        task.lease_expires_at = now + timedelta(seconds=lease_seconds)
        sample = session.get_one(Sample, task.sample_id)
        if sample.state == "queued":
            sample.state = "in_progress"
            _tally.move(session, row.id, sample.split, "queued", "in_progress")
        _audit.record(
            session,
            actor=annotator,
            action="lease",
            object_type="task",
            object_id=task.id,
            project_id=row.id,
            detail={"sample_id": task.sample_id, "seconds": lease_seconds, "reclaimed": reclaimed},
        )
        return _lease_of(session, task, annotator)


def _lease_of(session: Session, task: Task, annotator: str) -> TaskLease:
    sample = session.get_one(Sample, task.sample_id)
    assert task.lease_expires_at is not None
    return TaskLease(
        task_id=task.id,
        sample_id=sample.id,
        external_id=sample.external_id,
        text=sample.text,
        uri=sample.uri,
        priority=task.priority,
        annotator=annotator,
        expires_at=task.lease_expires_at,
    )


def submit_annotation(
    store: Store,
    task_id: int,
    annotator: str,
    value: str,
    seconds_spent: float | None = None,
    *,
    now: datetime | None = None,
) -> AnnotationRecord:
    """Record ``annotator``'s answer to a leased task; the sample's label once enough answered.

    Submitting the same answer to the same task again returns the stored annotation and
    changes nothing. Refused: an unknown task or annotator, a lease that is not this
    annotator's or has expired, a label outside the project's label space.
    """
    now = now or utcnow()
    with store.write() as session:
        query = select(Task).where(Task.id == task_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        task = session.scalars(query).first()
        if task is None:
            raise NotFoundError(f"no task {task_id} in the store")
        who = annotator_row(session, annotator)
        project = session.get_one(Project, task.project_id)
        if task.state == "done":
            return _resubmitted(session, task, annotator, who.id, value)
        if value not in project.label_space:
            raise StoreError(
                f"label {value!r} is not in project {project.name!r}'s label space "
                f"({', '.join(project.label_space)})"
            )
        if task.state != "leased" or task.annotator_id != who.id:
            raise LeaseError(f"task {task_id} is not leased to {annotator!r}: lease a task first")
        assert task.lease_expires_at is not None
        if task.lease_expires_at <= now:
            raise LeaseError(
                f"the lease on task {task_id} expired at {task.lease_expires_at:%Y-%m-%d %H:%M:%S}"
                " UTC: lease a new task"
            )
        if seconds_spent is not None and not (math.isfinite(seconds_spent) and seconds_spent >= 0):
            raise StoreError(f"seconds_spent must be a non-negative number, got {seconds_spent}")
        annotation = Annotation(
            project_id=project.id,
            sample_id=task.sample_id,
            task_id=task.id,
            annotator_id=who.id,
            value=value,
            seconds_spent=seconds_spent,
            created_at=now,
        )
        session.add(annotation)
        task.state = "done"
        session.flush()
        label = _label_if_complete(session, project, task.sample_id)
        _audit.record(
            session,
            actor=annotator,
            action="annotate",
            object_type="annotation",
            object_id=annotation.id,
            project_id=project.id,
            detail={"task_id": task.id, "sample_id": task.sample_id, "value": value},
        )
        return AnnotationRecord(
            annotation.id, task.id, task.sample_id, annotator, value, now, label
        )


def _label_if_complete(session: Session, project: Project, sample_id: int) -> str | None:
    if session.get_one(Sample, sample_id).split == "gold":
        return None  # gold answers are checked against the gold label, never aggregated
    overlap = int(project.settings.get("overlap", 1))
    answered = session.scalar(
        select(func.count()).select_from(Annotation).where(Annotation.sample_id == sample_id)
    )
    if (answered or 0) < overlap:
        return None
    label = write_majority_label(session, project.id, sample_id)
    sample = session.get_one(Sample, sample_id)
    if sample.state != "labeled":
        _tally.move(session, project.id, sample.split, sample.state, "labeled")
        sample.state = "labeled"
    return label.value


def _resubmitted(
    session: Session, task: Task, annotator: str, annotator_id: int, value: str
) -> AnnotationRecord:
    stored = session.scalars(select(Annotation).where(Annotation.task_id == task.id)).first()
    if stored is None:
        raise LeaseError(f"task {task.id} was skipped; lease a new task")
    if stored.annotator_id != annotator_id or stored.value != value:
        raise LeaseError(f"task {task.id} was already answered; lease a new task")
    found = session.get(Label, task.sample_id)
    label = None if found is None else found.value
    return AnnotationRecord(
        stored.id, task.id, stored.sample_id, annotator, stored.value, stored.created_at, label
    )
