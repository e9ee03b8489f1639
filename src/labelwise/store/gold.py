"""Gold questions in the queue: when an annotator's next task is one, and which one.

A gold sample (split ``gold``, with a ``gold_label``) is asked of every annotator once, never
aggregated into a label and never shown with its answer. With a gold fraction ``f`` an
annotator who has given ``n`` annotations gets a gold question next when
``floor((n + 1) f) > floor(n f)``: one task in ``1 / f``, evenly spaced, with no random draw to
seed. The functions here run inside the lease transaction of :mod:`labelwise.store.queue`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from labelwise.store import _audit
from labelwise.store.schema import Annotation, Sample, Task

__all__ = ["gold_due", "lease_gold"]


def gold_due(session: Session, project_id: int, annotator_id: int, fraction: float) -> bool:
    """Whether the annotator's next task should be a gold question."""
    answered = (
        session.scalar(
            select(func.count())
            .select_from(Annotation)
            .where(
                Annotation.project_id == project_id,
                Annotation.annotator_id == annotator_id,
                Annotation.retracted_at.is_(None),
            )
        )
        or 0
    )
    return math.floor((answered + 1) * fraction) > math.floor(answered * fraction)


def lease_gold(
    session: Session, project_id: int, annotator_id: int, now: datetime, lease_seconds: float
) -> Task | None:
    """Lease a new task on a gold sample the annotator has not had; None when none is left."""
    seen = exists().where(Task.sample_id == Sample.id, Task.annotator_id == annotator_id)
    sample_id = session.scalar(
        select(Sample.id)
        .where(Sample.project_id == project_id, Sample.split == "gold", ~seen)
        .order_by(Sample.id)
        .limit(1)
    )
    if sample_id is None:
        return None
    task = Task(
        project_id=project_id,
        sample_id=sample_id,
        round_id=None,
        priority=0.0,
        state="leased",
        annotator_id=annotator_id,
        leased_at=now,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        created_at=now,
    )
    session.add(task)
    session.flush()
    _audit.record(
        session,
        actor=str(annotator_id),
        action="lease_gold",
        object_type="task",
        object_id=task.id,
        project_id=project_id,
        detail={"sample_id": sample_id},
    )
    return task
