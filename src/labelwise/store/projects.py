"""Projects (label space, task type, settings), annotators (role, token hash), and the claim
on a project's rounds that keeps two trainer processes from training one project at once."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from labelwise.store import _audit, _tally
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import NotFoundError, StoreError
from labelwise.store.relabel import check_relabel
from labelwise.store.schema import (
    ROLES,
    TASK_TYPES,
    Annotator,
    AnswerKind,
    Project,
    Role,
    TaskType,
)

__all__ = [
    "AnnotatorAccount",
    "AnnotatorInfo",
    "ProjectInfo",
    "RoundsClaim",
    "add_annotator",
    "annotator_for_token",
    "check_claims_possible",
    "claim_rounds",
    "create_project",
    "get_project",
    "list_annotators",
    "list_projects",
    "revoke_token",
]

#: Settings a project starts with; ``overlap`` is the number of annotators per sample.
DEFAULT_SETTINGS: dict[str, Any] = {"overlap": 1, "budget": None}


@dataclass(frozen=True)
class ProjectInfo:
    """A project as the rest of labelwise sees it."""

    id: int
    name: str
    task_type: str
    label_space: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    answer_kind: str = "label"  # "label", "number" or "labels": see labelwise.store.answers

    @property
    def overlap(self) -> int:
        """How many annotators label each queued sample."""
        return int(self.settings.get("overlap", 1))


@dataclass(frozen=True)
class AnnotatorInfo:
    id: int
    name: str
    role: str


@dataclass(frozen=True)
class AnnotatorAccount:
    """An annotator as ``labelwise user list`` shows them: never the token, only whether one
    works."""

    name: str
    role: str
    has_token: bool
    created_at: datetime


def _info(row: Project) -> ProjectInfo:
    return ProjectInfo(
        row.id,
        row.name,
        row.task_type,
        tuple(row.label_space),
        dict(row.settings),
        row.answer_kind,
    )


def check_label_space(labels: Sequence[str]) -> list[str]:
    """A label space: at least two distinct, non-empty labels, in the order given."""
    cleaned = [str(label).strip() for label in labels]
    if any(not label for label in cleaned):
        raise StoreError("labels must be non-empty strings")
    duplicates = sorted({label for label in cleaned if cleaned.count(label) > 1})
    if duplicates:
        raise StoreError(f"the label space repeats {', '.join(duplicates)}")
    if len(cleaned) < 2:
        raise StoreError(f"a label space needs at least 2 labels, got {cleaned}")
    return cleaned


def check_settings(
    settings: Mapping[str, Any] | None, answer_kind: str | None = None
) -> dict[str, Any]:
    """``settings`` over the defaults, checked: ``overlap``, ``budget`` and relabeling
    (:func:`labelwise.store.relabel.check_relabel`, for a project of ``answer_kind``)."""
    merged = {**DEFAULT_SETTINGS, **(settings or {})}
    overlap = merged["overlap"]
    if not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 1:
        raise StoreError(f"overlap must be a positive integer, got {overlap!r}")
    budget = merged["budget"]
    if budget is not None and (not isinstance(budget, int) or budget < 0):
        raise StoreError(f"budget must be a non-negative integer or None, got {budget!r}")
    check_relabel(merged, answer_kind)
    return merged


def project_row(session: Session, name: str, *, lock: bool = False) -> Project:
    """The project called ``name``, or NotFoundError naming the projects there are."""
    query = select(Project).where(Project.name == name)
    if lock and session.get_bind().dialect.name == "postgresql":
        # NO KEY UPDATE: writers of the project take turns, while the foreign-key checks of
        # rows that point at it (an audit row of a lease: FOR KEY SHARE) do not wait. A plain
        # FOR UPDATE made a lease and a round wait on each other: a deadlock.
        query = query.with_for_update(key_share=True)
    row = session.scalars(query).first()
    if row is None:
        names = session.scalars(select(Project.name).order_by(Project.name)).all()
        known = ", ".join(names) if names else "none yet: import a file or create one"
        raise NotFoundError(f"no project named {name!r} in the store (projects: {known})")
    return row


def add_project_row(
    session: Session,
    name: str,
    task_type: str,
    answer_kind: str,
    label_space: list[str],
    settings: dict[str, Any],
) -> Project:
    """Add a project's row (checked values) and its tally row, flushed so it has its id."""
    row = Project(
        name=name,
        task_type=task_type,
        answer_kind=answer_kind,
        label_space=label_space,
        settings=settings,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    _tally.create(session, row.id)
    return row


def create_project(
    store: Store,
    name: str,
    labels: Sequence[str],
    task_type: TaskType = "text_classification",
    settings: Mapping[str, Any] | None = None,
    *,
    actor: str = "labelwise",
    answer_kind: AnswerKind = "label",
) -> ProjectInfo:
    """Create a project with its label space, in one transaction with its audit row.

    Parameters
    ----------
    name : str
        Unique project name.
    labels : sequence of str
        The label space: the answers annotators may give, at least two.
    task_type : {"text_classification", "image_classification"}
    settings : mapping, optional
        ``overlap`` (annotators per sample, default 1) and ``budget`` (annotations, default
        None: unlimited), ``answer`` (for a number project: ``min``, ``max``, ``step`` and
        ``aggregation``, "median" or "mean"); other keys are kept for the controller.
    answer_kind : {"label", "number", "labels"}
        What annotators answer: one label (default), a number (regression: the label space
        may then be empty) or a set of labels (multi-label).
    """
    from labelwise.store.answers import check_answer_settings

    if not name or not name.strip():
        raise StoreError("a project needs a non-empty name")
    if task_type not in TASK_TYPES:
        raise StoreError(f"task type must be one of {', '.join(TASK_TYPES)}, got {task_type!r}")
    answer = check_answer_settings(answer_kind, list(labels), settings)
    label_space = [] if answer_kind == "number" and not labels else check_label_space(labels)
    merged = check_settings(settings, answer_kind)
    if answer is not None:
        merged["answer"] = answer
    with store.write() as session:
        if session.scalars(select(Project.id).where(Project.name == name)).first() is not None:
            raise StoreError(f"a project named {name!r} already exists")
        row = add_project_row(session, name, task_type, answer_kind, label_space, merged)
        _audit.record(
            session,
            actor=actor,
            action="create_project",
            object_type="project",
            object_id=row.id,
            project_id=row.id,
            detail={
                "name": name,
                "labels": label_space,
                "task_type": task_type,
                "answer_kind": answer_kind,
            },
        )
        return _info(row)


def get_project(store: Store, name: str) -> ProjectInfo:
    """The project called ``name``."""
    with store.read() as session:
        return _info(project_row(session, name))


def list_projects(store: Store) -> list[ProjectInfo]:
    """Every project, by name."""
    with store.read() as session:
        return [_info(row) for row in session.scalars(select(Project).order_by(Project.name))]


def hash_token(token: str) -> str:
    """SHA-256 of an access token: the store keeps only this."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_annotator(
    store: Store,
    name: str,
    role: Role = "annotator",
    token: str | None = None,
    *,
    actor: str = "labelwise",
) -> AnnotatorInfo:
    """Register an annotator; only the SHA-256 hash of ``token`` is stored."""
    if not name or not name.strip():
        raise StoreError("an annotator needs a non-empty name")
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    with store.write() as session:
        if session.scalars(select(Annotator.id).where(Annotator.name == name)).first():
            raise StoreError(f"an annotator named {name!r} already exists")
        row = Annotator(
            name=name,
            role=role,
            token_hash=None if token is None else hash_token(token),
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        _audit.record(
            session,
            actor=actor,
            action="add_annotator",
            object_type="annotator",
            object_id=row.id,
            detail={"name": name, "role": role},
        )
        return AnnotatorInfo(row.id, row.name, row.role)


def annotator_row(session: Session, name: str) -> Annotator:
    row = session.scalars(select(Annotator).where(Annotator.name == name)).first()
    if row is None:
        raise NotFoundError(f"no annotator named {name!r}: add one with add_annotator first")
    return row


def annotator_for_token(store: Store, token: str) -> AnnotatorInfo | None:
    """The annotator whose token this is, or None."""
    with store.read() as session:
        row = session.scalars(
            select(Annotator).where(Annotator.token_hash == hash_token(token))
        ).first()
        return None if row is None else AnnotatorInfo(row.id, row.name, row.role)


def list_annotators(store: Store) -> list[AnnotatorAccount]:
    """Every annotator, by name, with their role and whether their token still works."""
    with store.read() as session:
        rows = session.execute(
            select(
                Annotator.name, Annotator.role, Annotator.token_hash, Annotator.created_at
            ).order_by(Annotator.name)
        )
        return [
            AnnotatorAccount(name, role, token_hash is not None, created_at)
            for name, role, token_hash, created_at in rows
        ]


def revoke_token(store: Store, name: str, *, actor: str = "labelwise") -> None:
    """Forget the annotator's token hash: the token stops working at once.

    Their annotations and memberships stay. A server that verified the token in the last
    ``token_cache_seconds`` (its setting) accepts it until that time has passed.
    """
    with store.write() as session:
        row = annotator_row(session, name)
        row.token_hash = None
        _audit.record(
            session,
            actor=actor,
            action="revoke_token",
            object_type="annotator",
            object_id=row.id,
            detail={"name": name},
        )


#: The PostgreSQL advisory lock that claims a project's rounds: its first key names the store
#: (a hash of this text and the schema, since advisory locks are per database and two stores may
#: share one database in different schemas), its second the project's id.
_LOCK_SPACE = func.hashtext(func.concat("labelwise rounds of ", func.current_schema()))


class RoundsClaim:
    """A process's claim on a project's rounds: a PostgreSQL session advisory lock, held on a
    connection of its own until :meth:`release`, or until the process dies (the server ends
    the session and frees the lock: a killed trainer leaves nothing to clean up).

    Made by :func:`claim_rounds`; while one process holds it, nobody else's claim succeeds.
    """

    def __init__(self, project: str, project_id: int, connection: Connection) -> None:
        self.project = project
        self.project_id = project_id
        self._connection: Connection | None = connection
        #: The PostgreSQL backend (``pg_stat_activity.pid``) whose session holds the lock.
        self.backend_pid = int(connection.execute(select(func.pg_backend_pid())).scalar_one())
        connection.commit()

    @property
    def held(self) -> bool:
        """Whether the claim is still this process's (its session answers); checked live."""
        connection = self._connection
        if connection is None:
            return False
        try:
            connection.execute(select(1)).scalar_one()
            connection.commit()
        except Exception:  # the session is gone, and the lock with it
            self._drop()
            return False
        return True

    def release(self) -> None:
        """Give the claim up (nothing happens when it is already gone)."""
        connection = self._connection
        if connection is None:
            return
        try:
            connection.execute(select(func.pg_advisory_unlock(_LOCK_SPACE, self.project_id)))
            connection.commit()
        except Exception:  # a closed session has released it already
            pass
        self._drop()

    def _drop(self) -> None:
        """Close the claim's session for good (never back to the pool, where a lock it might
        still hold would go with it to someone else)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:  # already broken
                pass

    def __enter__(self) -> RoundsClaim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def check_claims_possible(store: Store) -> None:
    """StoreError unless processes can coordinate through ``store`` (PostgreSQL only)."""
    if store.dialect != "postgresql":
        raise StoreError(
            "trainer processes coordinate through PostgreSQL (advisory locks); SQLite allows "
            "one writer at a time, so a SQLite store is served by one process that trains in "
            "a background thread: use a postgresql:// store"
        )


def claim_rounds(store: Store, project: str) -> RoundsClaim | None:
    """Claim the project's rounds for this process, without waiting; None when another has it.

    Only PostgreSQL stores coordinate processes: a SQLite store is served by one process,
    which trains in its own thread (StoreError says so).
    """
    check_claims_possible(store)
    project_id = get_project(store, project).id
    connection = store.engine.connect()
    try:
        got = connection.execute(
            select(func.pg_try_advisory_lock(_LOCK_SPACE, project_id))
        ).scalar_one()
        connection.commit()
    except BaseException:
        connection.close()
        raise
    if not got:
        connection.close()  # it holds nothing: back to the pool
        return None
    return RoundsClaim(project, project_id, connection)
