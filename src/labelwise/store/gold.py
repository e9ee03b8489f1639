"""Gold questions in the queue: when an annotator's next task is one, and which one.

A gold sample (split ``gold``, with a ``gold_label``) is asked of every annotator once, never
aggregated into a label and never shown with its answer. With a gold fraction ``f`` an
annotator who has given ``n`` annotations gets a gold question next when
``floor((n + 1) f) > floor(n f)``: one task in ``1 / f``, evenly spaced, with no random draw to
seed. The functions here run inside the lease transaction of :mod:`labelwise.store.leasing`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from labelwise.store import _hot
from labelwise.store._statement import Driver

__all__ = ["gold_due", "lease_gold"]


def gold_due(driver: Driver, project_id: int, annotator_id: int, fraction: float) -> bool:
    """Whether the annotator's next task should be a gold question."""
    answered = int(driver.scalar(_hot.ANSWERED, pid=project_id, who=annotator_id) or 0)
    return math.floor((answered + 1) * fraction) > math.floor(answered * fraction)


def lease_gold(
    driver: Driver,
    pending: _hot.Pending,
    annotator_id: int,
    now: datetime,
    lease_seconds: float,
) -> int | None:
    """Lease a new task on a gold sample the annotator has not had: its id, or None when the
    annotator has seen them all. The audit row goes to ``pending``."""
    project_id = pending.project_id
    sample_id = driver.scalar(_hot.GOLD_UNSEEN, pid=project_id, who=annotator_id)
    if sample_id is None:
        return None
    task_id = driver.scalar(
        _hot.ADD_TASK,
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
    assert task_id is not None
    pending.record(str(annotator_id), "lease_gold", "task", task_id, sample_id=sample_id)
    return int(task_id)
