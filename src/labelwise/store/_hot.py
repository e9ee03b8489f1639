"""The annotation service's hot path: statements built once, and the writes a transaction defers.

Building a SQLAlchemy statement costs about as much as running it on SQLite (operator
overloading, coercion, then a cache key); a lease or an answer runs a dozen, so the statements
of :mod:`labelwise.store.leasing` and :mod:`labelwise.store.queue`'s submit path are built here
once, with bind parameters, and their compiled form comes from SQLAlchemy's cache. The sample
tally moves and the audit rows of one transaction are gathered in a :class:`Pending` and
written at its end: the tally as one ``UPDATE`` per (split, state) whose count changed, in a
fixed order (no deadlocks on PostgreSQL), the audit rows as one multi-row ``INSERT``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, insert, select, update
from sqlalchemy.orm import aliased

from labelwise.store.engine import utcnow
from labelwise.store.schema import (
    Annotation,
    Annotator,
    Audit,
    Label,
    Project,
    Sample,
    SampleTally,
    Task,
)

PROJECT_ID = select(Project.id).where(Project.name == bindparam("name"))
ANNOTATOR_ID = select(Annotator.id).where(Annotator.name == bindparam("name"))

EXPIRED = select(Task.id, Task.sample_id).where(
    Task.project_id == bindparam("pid"),
    Task.state == "leased",
    Task.lease_expires_at <= bindparam("now"),
)
HELD = (
    select(Task.id)
    .where(Task.project_id == bindparam("pid"), Task.state == "leased")
    .where(Task.annotator_id == bindparam("who"), Task.lease_expires_at > bindparam("now"))
    .order_by(Task.id)
    .limit(1)
)
_other = aliased(Task)
PICK = (
    select(
        Task.id,
        Task.sample_id,
        Sample.external_id,
        Sample.text,
        Sample.uri,
        Task.priority,
        Sample.split,
        Sample.state,
    )
    .join(Sample, Sample.id == Task.sample_id)
    .where(Task.project_id == bindparam("pid"), Task.state == "open")
    .where(
        ~exists().where(
            and_(_other.sample_id == Task.sample_id, _other.annotator_id == bindparam("who"))
        )
    )
    .order_by(Task.priority.desc(), Task.id.desc())
    .limit(1)
)
PICK_PG = PICK.with_for_update(skip_locked=True, of=Task)
TAKE = (
    update(Task)
    .where(Task.id == bindparam("tid"))
    .values(
        state="leased",
        annotator_id=bindparam("who"),
        leased_at=bindparam("now"),
        lease_expires_at=bindparam("until"),
    )
)
SAMPLE_STATE = select(Sample.split, Sample.state).where(Sample.id == bindparam("sid"))
SET_SAMPLE_STATE = (
    update(Sample).where(Sample.id == bindparam("sid")).values(state=bindparam("new_state"))
)
LEASE_VIEW = (
    select(
        Task.id,
        Sample.id,
        Sample.external_id,
        Sample.text,
        Sample.uri,
        Task.priority,
        Task.lease_expires_at,
    )
    .join(Sample, Sample.id == Task.sample_id)
    .where(Task.id == bindparam("tid"))
)

SUBMITTED_TASK = (
    select(
        Task.project_id,
        Task.sample_id,
        Task.state,
        Task.annotator_id,
        Task.lease_expires_at,
        Project.name,
        Project.label_space,
        Project.settings,
        Sample.split,
        Sample.state,
    )
    .join(Project, Project.id == Task.project_id)
    .join(Sample, Sample.id == Task.sample_id)
    .where(Task.id == bindparam("tid"))
)
SUBMITTED_TASK_PG = SUBMITTED_TASK.with_for_update(of=Task)
ADD_ANNOTATION = insert(Annotation)
TASK_DONE = update(Task).where(Task.id == bindparam("tid")).values(state="done")
VOTES = (
    select(Annotation.value)
    .where(Annotation.sample_id == bindparam("sid"), Annotation.retracted_at.is_(None))
    .order_by(Annotation.created_at, Annotation.id)
)
HAS_LABEL = select(Label.sample_id).where(Label.sample_id == bindparam("sid"))
ADD_LABEL = insert(Label)
SET_LABEL = (
    update(Label)
    .where(Label.sample_id == bindparam("sid"))
    .values(
        value=bindparam("new_value"),
        method=bindparam("new_method"),
        agreement=bindparam("new_agreement"),
        n_annotations=bindparam("new_n"),
        updated_at=bindparam("new_at"),
    )
)

_TALLY = (
    update(SampleTally)
    .where(
        SampleTally.project_id == bindparam("pid"),
        SampleTally.split == bindparam("tally_split"),
        SampleTally.state == bindparam("tally_state"),
    )
    .values(n=SampleTally.n + bindparam("delta"))
)
_AUDIT = insert(Audit)


@dataclass
class Pending:
    """Tally moves and audit rows of one transaction, written by :meth:`flush` at its end."""

    project_id: int
    tally: Counter[tuple[str, str]] = field(default_factory=Counter)
    audit: list[dict[str, Any]] = field(default_factory=list)

    def move(self, split: str, old: str, new: str) -> None:
        """One sample of ``split`` went from state ``old`` to ``new``."""
        if old != new:
            self.tally[(split, old)] -= 1
            self.tally[(split, new)] += 1

    def record(
        self, actor: str, action: str, object_type: str, object_id: object, **detail: Any
    ) -> None:
        """An audit row of this project (see :func:`labelwise.store._audit.record`)."""
        self.audit.append(
            {
                "project_id": self.project_id,
                "actor": actor,
                "action": action,
                "object_type": object_type,
                "object_id": str(object_id),
                "at": utcnow(),
                "detail": detail,
            }
        )

    def flush(self, conn: Connection) -> None:
        """Write the tally and the audit rows gathered so far, then forget them."""
        changed = [
            {"pid": self.project_id, "tally_split": s, "tally_state": t, "delta": n}
            for (s, t), n in sorted(self.tally.items())
            if n
        ]
        if changed:
            conn.execute(_TALLY, changed)
        if self.audit:
            conn.execute(_AUDIT, self.audit)
        self.tally.clear()
        self.audit.clear()


def set_sample_state(conn: Connection, sample_id: int, state: str) -> None:
    """Change one sample's state (the caller records the tally move)."""
    conn.execute(SET_SAMPLE_STATE, {"sid": sample_id, "new_state": state})


def write_label(
    conn: Connection,
    project_id: int,
    sample_id: int,
    value: str,
    agreement: float,
    n: int,
    at: datetime,
) -> None:
    """Store a sample's majority label, replacing the one it had (as ``session.merge`` did)."""
    if conn.execute(HAS_LABEL, {"sid": sample_id}).first() is None:
        conn.execute(
            ADD_LABEL,
            {
                "sample_id": sample_id,
                "project_id": project_id,
                "value": value,
                "method": "majority",
                "agreement": agreement,
                "n_annotations": n,
                "updated_at": at,
            },
        )
    else:
        conn.execute(
            SET_LABEL,
            {
                "sid": sample_id,
                "new_value": value,
                "new_method": "majority",
                "new_agreement": agreement,
                "new_n": n,
                "new_at": at,
            },
        )
