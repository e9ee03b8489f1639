"""An annotator's second thoughts: skip the task in hand, undo the last answer.

``skip_task`` closes the annotator's slot on the sample (so they are not asked again) and puts a
fresh slot with the same score back in the queue for someone else. ``undo_last`` takes back the
annotator's latest answer in a project and leases that task to them again: annotations are
append-only, so the row stays, marked retracted (``retracted_at``, ``retracted_by``) and no
longer counted by labels, agreement, gold accuracy, answer counts or exports; the sample's
label is withdrawn when that answer had completed it (it returns with the next answer), and any
other lease the annotator held goes back to the queue. Undo again and the answer before it is
taken back, and so on through the annotator's answers that still stand (each answer is taken
back once). Each is one transaction with its audit row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from labelwise.store import _audit, _tally
from labelwise.store._hot import REVIEW_METHOD
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import LeaseError, NotFoundError, StoreError
from labelwise.store.projects import annotator_row, project_row
from labelwise.store.queue import TaskLease
from labelwise.store.schema import Annotation, Label, Sample, Task

__all__ = ["skip_task", "undo_last"]


def skip_task(store: Store, task_id: int, annotator: str, *, now: datetime | None = None) -> None:
    """Give back a leased task without answering it; the annotator will not get it again."""
    now = now or utcnow()
    with store.write() as session:
        task = session.get(Task, task_id)
        if task is None:
            raise NotFoundError(f"no task {task_id} in the store")
        who = annotator_row(session, annotator)
        if task.state != "leased" or task.annotator_id != who.id:
            raise LeaseError(f"task {task_id} is not leased to {annotator!r}: lease a task first")
        sample = session.get_one(Sample, task.sample_id)
        task.state = "done"  # the annotator's slot, closed without an answer
        if sample.split != "gold":
            session.add(
                Task(
                    project_id=task.project_id,
                    sample_id=task.sample_id,
                    round_id=task.round_id,
                    priority=task.priority,
                    state="open",
                    created_at=now,
                )
            )
        _audit.record(
            session,
            actor=annotator,
            action="skip",
            object_type="task",
            object_id=task.id,
            project_id=task.project_id,
            detail={"sample_id": task.sample_id},
        )


def undo_last(
    store: Store,
    project: str,
    annotator: str,
    lease_seconds: float = 600.0,
    *,
    now: datetime | None = None,
) -> TaskLease:
    """Take back ``annotator``'s latest standing answer in ``project``; lease its task again.

    The annotation is retracted, not deleted (see the module's notes). Called again, it takes
    back the answer before that one: answers already taken back are passed over.

    Raises
    ------
    NotFoundError
        When the annotator has no answer left to take back in the project.
    """
    if not lease_seconds > 0:
        raise StoreError(f"lease_seconds must be positive, got {lease_seconds}")
    now = now or utcnow()
    with store.write() as session:
        row = project_row(session, project, lock=True)
        who = annotator_row(session, annotator)
        last = session.scalars(
            select(Annotation)
            .where(
                Annotation.project_id == row.id,
                Annotation.annotator_id == who.id,
                Annotation.retracted_at.is_(None),
                Annotation.task_id.is_not(None),
            )
            .order_by(Annotation.id.desc())
            .limit(1)
        ).first()
        if last is None or last.task_id is None:
            raise NotFoundError(f"{annotator!r} has no answer left to undo in project {project!r}")
        session.execute(
            update(Task)
            .where(Task.project_id == row.id, Task.annotator_id == who.id, Task.state == "leased")
            .values(state="open", annotator_id=None, leased_at=None, lease_expires_at=None)
        )
        task = session.get_one(Task, last.task_id)
        sample = session.get_one(Sample, last.sample_id)
        detail = {"task_id": task.id, "sample_id": sample.id, "value": last.value}
        retracted: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(Annotation)
            .where(Annotation.id == last.id, Annotation.retracted_at.is_(None))
            .values(retracted_at=now, retracted_by=who.id)
        )
        if retracted.rowcount != 1:  # pragma: no cover - the project row lock orders undos
            raise LeaseError(f"annotation {last.id} was already taken back")
        _withdraw_label(session, row.id, sample)
        task.state = "leased"
        task.leased_at = now
        task.lease_expires_at = now + timedelta(seconds=lease_seconds)
        _audit.record(
            session,
            actor=annotator,
            action="undo",
            object_type="annotation",
            object_id=last.id,
            project_id=row.id,
            detail=detail,
        )
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


def _withdraw_label(session: Session, project_id: int, sample: Sample) -> None:
    """After an answer is taken back the sample lacks one: its label (if any) is withdrawn,
    unless a reviewer set it (:data:`~labelwise.store._hot.REVIEW_METHOD`): a reviewer's label
    is changed only by another review, and the answer given again is kept beside it."""
    if sample.split == "gold":
        return
    label = session.get(Label, sample.id)
    if label is None or label.n_annotations == 0 or label.method == REVIEW_METHOD:
        return  # not labeled by annotators (an imported label), or a reviewer's: it stays
    session.delete(label)
    if sample.state == "labeled":
        _tally.move(session, project_id, sample.split, "labeled", "in_progress")
        sample.state = "in_progress"
