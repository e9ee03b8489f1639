"""Renewing a lease: the annotator's open page says "still here", and the task stays theirs.

The annotation page calls this every 30 seconds or so while a task is open, so leases can be
short (two minutes by default): a task left behind returns to the queue soon after its page
closes, and one being read stays with its reader. A renewal writes no audit row: it decides
nothing (the lease and the answer are audited), and a row per heartbeat would drown the log.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import LeaseError, StoreError
from labelwise.store.schema import Annotator, Task

__all__ = ["renew_lease"]

#: The lease moves only while it is live and held by this annotator.
_RENEW = (
    update(Task)
    .where(
        Task.id == bindparam("task_id"),
        Task.state == "leased",
        Task.annotator_id
        == select(Annotator.id).where(Annotator.name == bindparam("who")).scalar_subquery(),
        Task.lease_expires_at > bindparam("now"),
    )
    .values(lease_expires_at=bindparam("until"))
)


def renew_lease(
    store: Store,
    task_id: int,
    annotator: str,
    seconds: float,
    *,
    now: datetime | None = None,
) -> datetime:
    """Extend ``annotator``'s live lease on a task to ``seconds`` from now; the new expiry.

    Parameters
    ----------
    task_id : int
        A task leased to ``annotator``.
    annotator : str
        The annotator's name.
    seconds : float
        The lease's new length, from ``now`` (positive, finite).
    now : datetime, optional
        The current time in naive UTC (default: the clock).

    Returns
    -------
    datetime
        When the lease now ends, in naive UTC as the store keeps times.

    Raises
    ------
    LeaseError
        When the task is not leased to ``annotator`` or its lease already ran out (it may
        be someone else's by now): lease a task again.
    """
    if not (math.isfinite(seconds) and seconds > 0):
        raise StoreError(f"a lease is renewed for a positive number of seconds, got {seconds}")
    now = utcnow() if now is None else now
    until = now + timedelta(seconds=seconds)
    with store.write() as session:
        result = session.connection().execute(
            _RENEW, {"task_id": task_id, "who": annotator, "now": now, "until": until}
        )
        if result.rowcount != 1:
            raise LeaseError(
                f"task {task_id} is not leased to {annotator!r} any more (answered, skipped "
                "or expired): lease the next task"
            )
    return until
