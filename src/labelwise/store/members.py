"""Project membership and project settings: who may work on a project, and how it runs.

Members are kept in the project's settings (``settings["annotators"]``, a list of annotator
names), so that membership needs no table of its own; admins reach every project without being
members. :func:`update_settings` merges new settings into a project's, checked by the same rules
as at creation, in one transaction with its audit row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from labelwise.store import _audit
from labelwise.store.engine import Store
from labelwise.store.errors import StoreError
from labelwise.store.projects import ProjectInfo, annotator_row, check_settings, project_row
from labelwise.store.schema import Project

__all__ = ["add_member", "is_member", "member_projects", "update_settings"]

#: Settings that only :func:`add_member` changes.
_MEMBERS = "annotators"


def update_settings(
    store: Store, project: str, changes: Mapping[str, Any], *, actor: str = "labelwise"
) -> ProjectInfo:
    """Merge ``changes`` into the project's settings and return the project.

    ``overlap``, ``budget`` and relabeling (``relabel_below``, ``max_annotators``:
    :mod:`labelwise.store.relabel`) are checked as in :func:`labelwise.store.create_project`; the
    member list cannot be set here (use :func:`add_member`).
    """
    if _MEMBERS in changes:
        raise StoreError("annotators join a project through add_member, not through settings")
    with store.write() as session:
        row = project_row(session, project, lock=True)
        merged = check_settings({**row.settings, **dict(changes)}, row.answer_kind)
        row.settings = merged
        _audit.record(
            session,
            actor=actor,
            action="update_settings",
            object_type="project",
            object_id=row.id,
            project_id=row.id,
            detail={"changes": dict(changes)},
        )
        return ProjectInfo(
            row.id, row.name, row.task_type, tuple(row.label_space), merged, row.answer_kind
        )


def add_member(store: Store, project: str, annotator: str, *, actor: str = "labelwise") -> None:
    """Let ``annotator`` work on ``project`` (nothing changes when they already may)."""
    with store.write() as session:
        row = project_row(session, project, lock=True)
        annotator_row(session, annotator)
        members = list(row.settings.get(_MEMBERS, []))
        if annotator in members:
            return
        row.settings = {**row.settings, _MEMBERS: [*members, annotator]}
        _audit.record(
            session,
            actor=actor,
            action="add_member",
            object_type="project",
            object_id=row.id,
            project_id=row.id,
            detail={"annotator": annotator},
        )


def is_member(project: ProjectInfo, annotator: str) -> bool:
    """Whether ``annotator`` is one of the project's members."""
    return annotator in project.settings.get(_MEMBERS, [])


def member_projects(store: Store, annotator: str) -> list[str]:
    """Names of the projects ``annotator`` is a member of, sorted."""
    with store.read() as session:
        rows = session.execute(select(Project.name, Project.settings).order_by(Project.name))
        return [name for name, settings in rows if annotator in (settings or {}).get(_MEMBERS, [])]
