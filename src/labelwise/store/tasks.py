"""Looking up one task: its project, its sample and who holds it (for access checks)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from labelwise.store.engine import Store
from labelwise.store.errors import NotFoundError
from labelwise.store.samples import SampleRecord
from labelwise.store.schema import Annotator, Project, Sample, Task

__all__ = ["TaskView", "task_view"]


@dataclass(frozen=True)
class TaskView:
    """A task with the names the server's access checks need."""

    task_id: int
    project: str
    state: str
    annotator: str | None
    sample: SampleRecord


def task_view(store: Store, task_id: int) -> TaskView:
    """The task ``task_id``, or NotFoundError."""
    with store.read() as session:
        found = session.execute(
            select(
                Task.id,
                Project.name,
                Task.state,
                Annotator.name,
                Sample.id,
                Sample.external_id,
                Sample.text,
                Sample.uri,
                Sample.split,
                Sample.state,
            )
            .join(Project, Project.id == Task.project_id)
            .join(Sample, Sample.id == Task.sample_id)
            .outerjoin(Annotator, Annotator.id == Task.annotator_id)
            .where(Task.id == task_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no task {task_id} in the store")
        sample = SampleRecord(found[4], found[5], found[6], found[7], found[8], found[9])
        return TaskView(found[0], found[1], found[2], found[3], sample)
