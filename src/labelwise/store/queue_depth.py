"""How deep the annotation queue is and how many annotators are working it.

The controller reads this to keep enough tasks ahead of the team: the open tasks (queued, not
leased), the leased ones, and the annotators active in a recent window (holding a lease now or
having answered within it). Two indexed reads; nothing scans the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, union

from labelwise.store.engine import Store, utcnow
from labelwise.store.projects import project_row
from labelwise.store.schema import Annotation, Task

__all__ = ["QueueDepth", "queue_depth"]


@dataclass(frozen=True)
class QueueDepth:
    """Open (waiting) tasks, leased tasks and active annotators of a project."""

    open_tasks: int
    leased_tasks: int
    active_annotators: int


def queue_depth(store: Store, project: str, *, active_seconds: float = 300.0) -> QueueDepth:
    """The queue's depth now, and the annotators active in the last ``active_seconds``."""
    since = utcnow() - timedelta(seconds=active_seconds)
    with store.read() as session:
        row = project_row(session, project)
        counts = dict(
            session.execute(
                select(Task.state, func.count())
                .where(Task.project_id == row.id, Task.state.in_(("open", "leased")))
                .group_by(Task.state)
            ).all()
        )
        holding = select(Task.annotator_id.label("who")).where(
            Task.project_id == row.id, Task.state == "leased"
        )
        answered = select(Annotation.annotator_id.label("who")).where(
            Annotation.project_id == row.id, Annotation.created_at >= since
        )
        active = union(holding, answered).subquery()
        n_active = session.scalar(
            select(func.count()).select_from(active).where(active.c.who.is_not(None))
        )
        return QueueDepth(
            int(counts.get("open", 0)), int(counts.get("leased", 0)), int(n_active or 0)
        )
