"""Looking up one task or one project for the server's access checks, on the hot path.

Both run one SQLAlchemy Core statement built once (:mod:`labelwise.store._hot`), compiled per
dialect and run on the driver's cursor (no ORM session), since every answer and every "next
task" asks them.
"""

from __future__ import annotations

from dataclasses import dataclass

from labelwise.store import _hot
from labelwise.store.engine import Store
from labelwise.store.errors import NotFoundError
from labelwise.store.projects import ProjectInfo, get_project
from labelwise.store.samples import SampleRecord

__all__ = ["TaskView", "project_info", "task_view"]


@dataclass(frozen=True)
class TaskView:
    """A task with the names the server's access checks need."""

    task_id: int
    project: str
    state: str
    annotator: str | None
    sample: SampleRecord
    label_space: tuple[str, ...] = ()  # the project's labels, for the server's 422
    project_info: ProjectInfo | None = None  # the whole project, as get_project gives it


def task_view(store: Store, task_id: int) -> TaskView:
    """The task ``task_id``, or NotFoundError."""
    with store.driver_read() as driver:
        found = driver.first(_hot.TASK_VIEW, tid=task_id)
    if found is None:
        raise NotFoundError(f"no task {task_id} in the store")
    sample = SampleRecord(found[4], found[5], found[6], found[7], found[8], found[9])
    space = tuple(found[10])
    info = ProjectInfo(found[11], found[1], found[12], space, dict(found[13] or {}), found[14])
    return TaskView(found[0], found[1], found[2], found[3], sample, space, info)


def project_info(store: Store, name: str) -> ProjectInfo:
    """:func:`labelwise.store.get_project`, in one prebuilt statement (same NotFoundError)."""
    with store.driver_read() as driver:
        found = driver.first(_hot.PROJECT_INFO, name=name)
    if found is None:
        return get_project(store, name)  # raises, naming the projects there are
    return ProjectInfo(
        found[0], found[1], found[2], tuple(found[3]), dict(found[4] or {}), found[5]
    )
