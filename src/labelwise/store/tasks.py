"""Looking up one task or one project for the server's access checks, on the hot path.

Both run one statement built once (on SQLite a fixed SQL string on the driver's connection,
see :mod:`labelwise.store._sqlite_hot`; elsewhere SQLAlchemy Core with bind parameters on a
plain connection: no ORM session), since every answer and every "next task" asks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from labelwise.store import _sqlite_hot
from labelwise.store.engine import Store
from labelwise.store.errors import NotFoundError
from labelwise.store.projects import ProjectInfo, get_project
from labelwise.store.samples import SampleRecord
from labelwise.store.schema import Annotator, Project, Sample, Task

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


_TASK_VIEW = (
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
        Project.label_space,
        Project.id,
        Project.task_type,
        Project.settings,
    )
    .join(Project, Project.id == Task.project_id)
    .join(Sample, Sample.id == Task.sample_id)
    .outerjoin(Annotator, Annotator.id == Task.annotator_id)
    .where(Task.id == bindparam("tid"))
)
_PROJECT = select(
    Project.id, Project.name, Project.task_type, Project.label_space, Project.settings
).where(Project.name == bindparam("name"))


def task_view(store: Store, task_id: int) -> TaskView:
    """The task ``task_id``, or NotFoundError."""
    found: Any
    if store.dialect == "sqlite":
        found = _sqlite_hot.task_row(store, task_id)
    else:
        with store.engine.connect() as conn:
            found = conn.execute(_TASK_VIEW, {"tid": task_id}).first()
    if found is None:
        raise NotFoundError(f"no task {task_id} in the store")
    sample = SampleRecord(found[4], found[5], found[6], found[7], found[8], found[9])
    space = tuple(found[10])
    info = ProjectInfo(found[11], found[1], found[12], space, dict(found[13] or {}))
    return TaskView(found[0], found[1], found[2], found[3], sample, space, info)


def project_info(store: Store, name: str) -> ProjectInfo:
    """:func:`labelwise.store.get_project`, in one prebuilt statement (same NotFoundError)."""
    if store.dialect == "sqlite":
        return _sqlite_hot.project_info(store, name)
    with store.engine.connect() as conn:
        found = conn.execute(_PROJECT, {"name": name}).first()
    if found is None:
        return get_project(store, name)  # raises, naming the projects there are
    return ProjectInfo(found[0], found[1], found[2], tuple(found[3]), dict(found[4] or {}))
