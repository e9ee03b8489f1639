"""The annotation queue: enqueue scored samples, lease tasks by score, take annotations.

Leasing lives in :mod:`labelwise.store.leasing` (re-exported here); submitting is here, with
:func:`submit_and_lease_next`, the answer and the next lease in one transaction. The hot path
(lease, submit) runs the prebuilt Core statements of :mod:`._hot` on the driver's cursor, on
SQLite and PostgreSQL alike, a few per call.

A queued sample gets ``overlap`` tasks (the project setting), each a slot for one annotator,
so no sample is ever held by more annotators than the overlap. ``lease_next_task`` hands out
the open task of highest priority (the strategy's score; ties: newest first) that this
annotator has not had on that sample; a lease whose time ran out goes back to the queue at
the next lease call. With a gold fraction f, every annotator's n-th task is a gold question
whenever floor(n f) grows (one in 1/f tasks, evenly spaced; see :mod:`labelwise.store.gold`).
With relabeling on, a sample whose label comes out uncertain gets one more task, up to a cap
(:mod:`labelwise.store.relabel`). ``submit_annotation`` is idempotent per task. Each function is one
transaction with its audit row. Samples of the eval split are never queued (refused here, and
by a CHECK constraint).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from labelwise.store import _audit, _hot, _tally
from labelwise.store._statement import Driver, Prepared
from labelwise.store.answer_aggregation import aggregate_answers
from labelwise.store.answers import AnswerSpec, encode_answer
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import LeaseError, NotFoundError, StoreError
from labelwise.store.leasing import (
    ProjectRef,
    TaskLease,
    annotator_id_of,
    budget_of,
    check_lease_args,
    lease_in,
    lease_next_task,
)
from labelwise.store.projects import project_row
from labelwise.store.relabel import ask_another, relabel_rule
from labelwise.store.schema import Project, Round, Sample, Task

__all__ = [
    "AnnotationRecord",
    "TaskLease",
    "enqueue",
    "lease_next_task",
    "submit_and_lease_next",
    "submit_annotation",
]

_CHUNK = 5_000


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
    skip_unavailable: bool = False,
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
    skip_unavailable : bool
        Leave out, instead of refusing, samples labeled or skipped since the caller read them
        (a round works from a snapshot of the pool while annotators keep labeling).

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
        if done and not skip_unavailable:
            raise StoreError(f"samples {_short(done)} are already labeled or skipped")
        gone = set(done)
        pairs = [(i, v) for i, v in zip(ids, values, strict=True) if i not in gone]
        fresh = [(i, v) for i, v in pairs if states[i][1] == "unlabeled"]
        again = [(i, v) for i, v in pairs if states[i][1] != "unlabeled"]
        # Task rows before the tally, the order a lease takes its locks in (its task, then the
        # tally): the other order deadlocks a round's re-queue against a lease on PostgreSQL.
        if again:  # one executemany, not one round trip per sample
            session.connection().execute(
                update(Task)
                .where(Task.sample_id == bindparam("sid"), Task.state == "open")
                .values(priority=bindparam("new_priority"), round_id=round_id),
                [{"sid": i, "new_priority": v} for i, v in again],
            )
        created = _create_tasks(session, row, fresh, round_id)
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
    annotator's or has expired, an answer the project does not take
    (:class:`~labelwise.store.answers.AnswerError`: a label outside the label space, a number
    that is not finite or outside the bounds and step, a set with an unknown label). ``value``
    is a label, a number's text or a JSON list of labels, by the project's answer kind.
    """
    record, _ = _submit(store, task_id, annotator, value, seconds_spent, None, now)
    return record


def submit_and_lease_next(
    store: Store,
    task_id: int,
    annotator: str,
    value: str,
    seconds_spent: float | None = None,
    *,
    lease_seconds: float = 600.0,
    gold_fraction: float = 0.0,
    now: datetime | None = None,
) -> tuple[AnnotationRecord, TaskLease | None]:
    """:func:`submit_annotation`, then :func:`lease_next_task` in the task's project.

    One transaction for both (one commit instead of two): the answer and the next lease are
    stored together or not at all. The next lease is None when the queue is empty or the
    project's budget is spent.
    """
    check_lease_args(lease_seconds, gold_fraction)
    return _submit(
        store, task_id, annotator, value, seconds_spent, (lease_seconds, gold_fraction), now
    )


def _submit(
    store: Store,
    task_id: int,
    annotator: str,
    value: str,
    seconds_spent: float | None,
    following: tuple[float, float] | None,
    now: datetime | None,
) -> tuple[AnnotationRecord, TaskLease | None]:
    """The submission and, with ``following = (lease_seconds, gold_fraction)``, the next
    lease, in one transaction."""
    now = now or utcnow()
    lease = None
    with store.driver_write() as driver:
        record, pending, project = _submit_in(driver, task_id, annotator, value, seconds_spent, now)
        if following is not None:
            lease_seconds, gold_fraction = following
            lease = lease_in(
                driver,
                pending,
                project,
                pending.who,
                annotator,
                lease_seconds,
                gold_fraction,
                now,
            )
        pending.flush(driver)
    return record, lease


#: The text span answers are checked against (spans projects only).
_SAMPLE_TEXT = Prepared(select(Sample.text).where(Sample.id == bindparam("sid")))


class _Pending(_hot.Pending):
    """The writes deferred by a submission, and who submitted."""

    def __init__(self, project_id: int, who: int) -> None:
        super().__init__(project_id)
        self.who = who


def _submit_in(
    driver: Driver,
    task_id: int,
    annotator: str,
    value: str,
    seconds_spent: float | None,
    now: datetime,
) -> tuple[AnnotationRecord, _Pending, ProjectRef]:
    """The submission, in the caller's transaction; its tally moves and audit row go to the
    pending writes it returns (nothing there when the answer was already stored)."""
    found = driver.first(_hot.SUBMITTED_TASK, tid=task_id)
    if found is None:
        raise NotFoundError(f"no task {task_id} in the store")
    project_id, sample_id, task_state, holder, expires, name, space, settings = found[:8]
    split, sample_state, kind = found[8], found[9], found[10]
    who = annotator_id_of(driver, annotator)
    pending = _Pending(project_id, who)
    project = ProjectRef(project_id, budget_of(settings))
    spec = AnswerSpec.of(kind, space, settings)
    text = driver.scalar(_SAMPLE_TEXT, sid=sample_id) if kind == "spans" else None
    if task_state == "done":
        if kind != "label":  # compare canonical texts ("2" and "2.0" are one answer)
            value = encode_answer(spec, value, name, text)
        return _resubmitted(driver, task_id, annotator, who, value), pending, project
    value = encode_answer(spec, value, name, text)
    if task_state != "leased" or holder != who:
        raise LeaseError(f"task {task_id} is not leased to {annotator!r}: lease a task first")
    assert expires is not None
    if expires <= now:
        raise LeaseError(
            f"the lease on task {task_id} expired at {expires:%Y-%m-%d %H:%M:%S}"
            " UTC: lease a new task"
        )
    if seconds_spent is not None and not (math.isfinite(seconds_spent) and seconds_spent >= 0):
        raise StoreError(f"seconds_spent must be a non-negative number, got {seconds_spent}")
    annotation_id = int(
        driver.scalar(
            _hot.ADD_ANNOTATION,
            project_id=project_id,
            sample_id=sample_id,
            task_id=task_id,
            annotator_id=who,
            value=value,
            seconds_spent=seconds_spent,
            created_at=now,
        )
    )
    driver.run(_hot.TASK_DONE, tid=task_id)
    label = None
    if split != "gold":  # gold answers are checked against the gold label, never aggregated
        label = _label_if_complete(
            driver, pending, task_id, sample_id, split, sample_state, settings or {}, now, spec
        )
    pending.record(
        annotator,
        "annotate",
        "annotation",
        annotation_id,
        task_id=task_id,
        sample_id=sample_id,
        value=value,
    )
    record = AnnotationRecord(annotation_id, task_id, sample_id, annotator, value, now, label)
    return record, pending, project


def _label_if_complete(
    driver: Driver,
    pending: _Pending,
    task_id: int,
    sample_id: int,
    split: str,
    state: str,
    settings: Mapping[str, Any],
    now: datetime,
    spec: AnswerSpec,
) -> str | None:
    """The label once ``overlap`` answers are in: the majority (as
    :func:`write_majority_label`), the median or mean of numbers, the per-label majority of
    label sets (:func:`labelwise.store.answer_aggregation.aggregate_answers`). Where it is
    less certain than the project's relabeling asks, the sample gets one more task
    (:func:`labelwise.store.relabel.ask_another`): this is where a sample is judged to need
    another answer, for overlap and relabeling alike."""
    values = [row[0] for row in driver.all(_hot.VOTES, sid=sample_id)]
    if len(values) < int(settings.get("overlap", 1)):
        return None
    value, agreement, method = aggregate_answers(spec, values)
    value = _hot.write_label(
        driver, pending.project_id, sample_id, value, agreement, len(values), now, method
    )
    if state != "labeled":
        pending.move(split, state, "labeled")
        _hot.set_sample_state(driver, sample_id, "labeled")
    rule = relabel_rule(settings)
    ask_another(driver, pending, task_id, sample_id, agreement, len(values), rule, now)
    return value


def _resubmitted(
    driver: Driver, task_id: int, annotator: str, annotator_id: int, value: str
) -> AnnotationRecord:
    stored = driver.first(_hot.STANDING_ANSWER, tid=task_id)
    if stored is None:
        raise LeaseError(f"task {task_id} was skipped; lease a new task")
    annotation_id, holder, stored_value, created_at, sample_id = stored
    if holder != annotator_id or stored_value != value:
        raise LeaseError(f"task {task_id} was already answered; lease a new task")
    label = driver.scalar(_hot.LABEL_VALUE, sid=sample_id)
    return AnnotationRecord(
        annotation_id, task_id, sample_id, annotator, stored_value, created_at, label
    )
