"""The annotation service's hot path: its statements, built once, and the writes it defers.

Every statement of a lease, an answer and the server's task lookups is a SQLAlchemy Core
statement here, built once at import with bind parameters and run as a
:class:`~labelwise.store._statement.Prepared` (compiled once per dialect, executed on the
driver's cursor): one definition for SQLite and PostgreSQL. Row locks that only PostgreSQL
has (``FOR UPDATE``, ``SKIP LOCKED``) are part of the statements; SQLite's compiler leaves them
out, and its writers take turns on one lock instead.

The sample tally moves and the audit rows of one transaction are gathered in a
:class:`Pending` and written at its end: the tally as one ``UPDATE`` per (split, state) whose
count changed, in a fixed order (no deadlocks on PostgreSQL), the audit rows in one
``executemany``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import aliased

from labelwise.store._statement import Driver, Prepared
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

# --- who and where -------------------------------------------------------------------------
PROJECT = Prepared(select(Project.id, Project.settings).where(Project.name == bindparam("name")))
#: Budgeted leases queue on their project's row (PostgreSQL). ``FOR NO KEY UPDATE``, not
#: ``FOR UPDATE``: the latter waits for the key-share locks that inserting an annotation or a
#: task takes on the project row, and two answer-and-next transactions deadlocked on them.
LOCK_PROJECT = Prepared(
    select(Project.id).where(Project.id == bindparam("pid")).with_for_update(key_share=True)
)
ANNOTATOR_ID = Prepared(select(Annotator.id).where(Annotator.name == bindparam("name")))

# --- leasing -------------------------------------------------------------------------------
EXPIRED = Prepared(
    select(Task.id, Task.sample_id).where(
        Task.project_id == bindparam("pid"),
        Task.state == "leased",
        Task.lease_expires_at <= bindparam("now"),
    )
)
#: An expired lease back to the queue; the lease is checked again here, so that a task
#: answered while this transaction waited for its row (PostgreSQL) stays answered.
RELEASE = Prepared(
    update(Task)
    .where(
        Task.id == bindparam("tid"),
        Task.state == "leased",
        Task.lease_expires_at <= bindparam("now"),
    )
    .values(state="open", annotator_id=None, leased_at=None, lease_expires_at=None)
)
BUSY = Prepared(
    select(func.count())
    .select_from(Task)
    .where(Task.sample_id == bindparam("sid"), Task.state != "open")
)
HELD = Prepared(
    select(Task.id)
    .where(Task.project_id == bindparam("pid"), Task.state == "leased")
    .where(Task.annotator_id == bindparam("who"), Task.lease_expires_at > bindparam("now"))
    .order_by(Task.id)
    .limit(1)
)
_other = aliased(Task)
PICK = Prepared(
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
    .with_for_update(skip_locked=True, of=Task)
)
TAKE = Prepared(
    update(Task)
    .where(Task.id == bindparam("tid"))
    .values(
        state="leased",
        annotator_id=bindparam("who"),
        leased_at=bindparam("now"),
        lease_expires_at=bindparam("until"),
    )
)
SAMPLE_STATE = Prepared(select(Sample.split, Sample.state).where(Sample.id == bindparam("sid")))
SET_SAMPLE_STATE = Prepared(
    update(Sample).where(Sample.id == bindparam("sid")).values(state=bindparam("new_state"))
)
#: A sample's state changed only from the one it was read in: of two transactions that read
#: the same state (two leases of one sample's slots on PostgreSQL), the second changes no row.
MOVE_SAMPLE = Prepared(
    update(Sample)
    .where(Sample.id == bindparam("sid"), Sample.state == bindparam("old_state"))
    .values(state=bindparam("new_state"))
    .returning(Sample.id)
)
LEASE_VIEW = Prepared(
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
#: What a budget counts: standing answers, and leases that may still become answers.
BUDGET_USED = Prepared(
    select(
        select(func.count())
        .select_from(Annotation)
        .where(Annotation.project_id == bindparam("pid"), Annotation.retracted_at.is_(None))
        .scalar_subquery(),
        select(func.count())
        .select_from(Task)
        .where(Task.project_id == bindparam("pid"), Task.state == "leased")
        .scalar_subquery(),
    )
)

# --- gold questions ------------------------------------------------------------------------
ANSWERED = Prepared(
    select(func.count())
    .select_from(Annotation)
    .where(
        Annotation.project_id == bindparam("pid"),
        Annotation.annotator_id == bindparam("who"),
        Annotation.retracted_at.is_(None),
    )
)
GOLD_UNSEEN = Prepared(
    select(Sample.id)
    .where(Sample.project_id == bindparam("pid"), Sample.split == "gold")
    .where(~exists().where(Task.sample_id == Sample.id, Task.annotator_id == bindparam("who")))
    .order_by(Sample.id)
    .limit(1)
)
ADD_TASK = Prepared(
    insert(Task).returning(Task.id),
    columns=(
        "project_id",
        "sample_id",
        "round_id",
        "priority",
        "state",
        "annotator_id",
        "leased_at",
        "lease_expires_at",
        "created_at",
    ),
)

# --- answering -----------------------------------------------------------------------------
SUBMITTED_TASK = Prepared(
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
        Project.answer_kind,
    )
    .join(Project, Project.id == Task.project_id)
    .join(Sample, Sample.id == Task.sample_id)
    .where(Task.id == bindparam("tid"))
    # the sample too (PostgreSQL): two answers to one sample's slots take turns, so the later
    # one reads the earlier's vote and completes the label (both read one vote otherwise, and
    # the sample stayed unlabeled). NO KEY UPDATE: inserting an annotation or a task that
    # points at the row (a KEY SHARE lock) does not wait for it.
    .with_for_update(of=(Task, Sample), key_share=True)
)
ADD_ANNOTATION = Prepared(
    insert(Annotation).returning(Annotation.id),
    columns=(
        "project_id",
        "sample_id",
        "task_id",
        "annotator_id",
        "value",
        "seconds_spent",
        "created_at",
    ),
)
TASK_DONE = Prepared(update(Task).where(Task.id == bindparam("tid")).values(state="done"))
VOTES = Prepared(
    select(Annotation.value)
    .where(Annotation.sample_id == bindparam("sid"), Annotation.retracted_at.is_(None))
    .order_by(Annotation.created_at, Annotation.id)
)
STANDING_ANSWER = Prepared(
    select(
        Annotation.id,
        Annotation.annotator_id,
        Annotation.value,
        Annotation.created_at,
        Annotation.sample_id,
    )
    .where(Annotation.task_id == bindparam("tid"), Annotation.retracted_at.is_(None))
    .order_by(Annotation.id)
    .limit(1)
)
LABEL_VALUE = Prepared(select(Label.value).where(Label.sample_id == bindparam("sid")))
LABEL_STANDING = Prepared(
    select(Label.method, Label.value).where(Label.sample_id == bindparam("sid"))
)
#: The method of a label a reviewer set (``label.method``): no later aggregation replaces it,
#: only another review.
REVIEW_METHOD = "review"
ADD_LABEL = Prepared(
    insert(Label).inline(),
    columns=(
        "sample_id",
        "project_id",
        "value",
        "method",
        "agreement",
        "n_annotations",
        "updated_at",
    ),
)
SET_LABEL = Prepared(
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

# --- the server's lookups ------------------------------------------------------------------
TASK_VIEW = Prepared(
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
        Project.answer_kind,
    )
    .join(Project, Project.id == Task.project_id)
    .join(Sample, Sample.id == Task.sample_id)
    .outerjoin(Annotator, Annotator.id == Task.annotator_id)
    .where(Task.id == bindparam("tid"))
)
PROJECT_INFO = Prepared(
    select(
        Project.id,
        Project.name,
        Project.task_type,
        Project.label_space,
        Project.settings,
        Project.answer_kind,
    ).where(Project.name == bindparam("name"))
)

# --- deferred writes -----------------------------------------------------------------------
_TALLY = Prepared(
    update(SampleTally)
    .where(
        SampleTally.project_id == bindparam("pid"),
        SampleTally.split == bindparam("tally_split"),
        SampleTally.state == bindparam("tally_state"),
    )
    .values(n=SampleTally.n + bindparam("delta"))
)
_AUDIT = Prepared(
    insert(Audit).inline(),
    columns=("project_id", "actor", "action", "object_type", "object_id", "at", "detail"),
)


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

    def flush(self, driver: Driver) -> None:
        """Write the tally and the audit rows gathered so far, then forget them."""
        changed = [
            {"pid": self.project_id, "tally_split": s, "tally_state": t, "delta": n}
            for (s, t), n in sorted(self.tally.items())
            if n
        ]
        if changed:
            driver.many(_TALLY, changed)
        if self.audit:
            driver.many(_AUDIT, self.audit)
        self.tally.clear()
        self.audit.clear()


def set_sample_state(driver: Driver, sample_id: int, state: str) -> None:
    """Change one sample's state (the caller records the tally move)."""
    driver.run(SET_SAMPLE_STATE, sid=sample_id, new_state=state)


def move_sample(
    driver: Driver, pending: Pending, sample_id: int, split: str, old: str, new: str
) -> bool:
    """Change a sample's state from ``old`` to ``new`` and count the move in ``pending``;
    False (nothing changed, nothing counted) when another transaction moved it first."""
    if driver.scalar(MOVE_SAMPLE, sid=sample_id, old_state=old, new_state=new) is None:
        return False
    pending.move(split, old, new)
    return True


def write_label(
    driver: Driver,
    project_id: int,
    sample_id: int,
    value: str,
    agreement: float | None,
    n: int,
    at: datetime,
    method: str = "majority",
) -> str:
    """Store a sample's aggregated label, replacing the one it had, and return the label that
    stands: a label a reviewer set (:data:`REVIEW_METHOD`) is replaced only by another review,
    not by the aggregate of answers that arrive after it."""
    standing = driver.first(LABEL_STANDING, sid=sample_id)
    if standing is None:
        driver.run(
            ADD_LABEL,
            sample_id=sample_id,
            project_id=project_id,
            value=value,
            method=method,
            agreement=agreement,
            n_annotations=n,
            updated_at=at,
        )
    elif standing[0] == REVIEW_METHOD and method != REVIEW_METHOD:
        return str(standing[1])
    else:
        driver.run(
            SET_LABEL,
            sid=sample_id,
            new_value=value,
            new_method=method,
            new_agreement=agreement,
            new_n=n,
            new_at=at,
        )
    return value
