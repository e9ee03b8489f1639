"""The annotation service's hot path on SQLite, on the driver's own connection.

On SQLite most of the time of a lease or an answer went to SQLAlchemy itself (statement
execution, parameter and result processing), not to the database. Here the same statements run
as fixed SQL strings through :mod:`sqlite3`, with the same semantics as the SQLAlchemy Core path
of :mod:`labelwise.store.leasing` and :mod:`labelwise.store.queue` (which PostgreSQL keeps): one
``BEGIN IMMEDIATE`` transaction per call under the store's writer lock
(:meth:`labelwise.store.engine.Store.sqlite_write`), the same rows, the same audit rows, the
same sample tally moves, the same constraints. Values are stored as SQLAlchemy stores them on
SQLite: times as ``YYYY-MM-DD HH:MM:SS.ffffff`` text (:func:`stored_time`), JSON as
``json.dumps`` text, so that both paths read what the other wrote.
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from labelwise.store import _hot
from labelwise.store.aggregation import majority
from labelwise.store.engine import Store
from labelwise.store.errors import LeaseError, NotFoundError, StoreError
from labelwise.store.projects import ProjectInfo, get_project

PROJECT_ID = "SELECT id FROM project WHERE name = ?"
ANNOTATOR_ID = "SELECT id FROM annotator WHERE name = ?"
EXPIRED = (
    "SELECT id, sample_id FROM task"
    " WHERE project_id = ? AND state = 'leased' AND lease_expires_at <= ?"
)
RELEASE = (
    "UPDATE task SET state = 'open', annotator_id = NULL, leased_at = NULL,"
    " lease_expires_at = NULL WHERE id = ?"
)
BUSY = "SELECT count(*) FROM task WHERE sample_id = ? AND state != 'open'"
HELD = (
    "SELECT id FROM task WHERE project_id = ? AND state = 'leased' AND annotator_id = ?"
    " AND lease_expires_at > ? ORDER BY id LIMIT 1"
)
PICK = (
    "SELECT task.id, task.sample_id, sample.external_id, sample.text, sample.uri,"
    " task.priority, sample.split, sample.state"
    " FROM task JOIN sample ON sample.id = task.sample_id"
    " WHERE task.project_id = ? AND task.state = 'open' AND NOT (EXISTS (SELECT * FROM task AS"
    " task_1 WHERE task_1.sample_id = task.sample_id AND task_1.annotator_id = ?))"
    " ORDER BY task.priority DESC, task.id DESC LIMIT 1"
)
TAKE = (
    "UPDATE task SET state = 'leased', annotator_id = ?, leased_at = ?, lease_expires_at = ?"
    " WHERE id = ?"
)
SAMPLE_STATE = "SELECT split, state FROM sample WHERE id = ?"
SET_SAMPLE_STATE = "UPDATE sample SET state = ? WHERE id = ?"
LEASE_VIEW = (
    "SELECT task.id, sample.id, sample.external_id, sample.text, sample.uri, task.priority,"
    " task.lease_expires_at FROM task JOIN sample ON sample.id = task.sample_id WHERE task.id = ?"
)
ANSWERED = (
    "SELECT count(*) FROM annotation WHERE project_id = ? AND annotator_id = ?"
    " AND retracted_at IS NULL"
)
GOLD_UNSEEN = (
    "SELECT sample.id FROM sample WHERE sample.project_id = ? AND sample.split = 'gold'"
    " AND NOT (EXISTS (SELECT * FROM task WHERE task.sample_id = sample.id"
    " AND task.annotator_id = ?)) ORDER BY sample.id LIMIT 1"
)
ADD_GOLD_TASK = (
    "INSERT INTO task (project_id, sample_id, round_id, priority, state, annotator_id,"
    " leased_at, lease_expires_at, created_at) VALUES (?, ?, NULL, 0.0, 'leased', ?, ?, ?, ?)"
)
SUBMITTED_TASK = (
    "SELECT task.project_id, task.sample_id, task.state, task.annotator_id,"
    " task.lease_expires_at, project.name, project.label_space, project.settings,"
    " sample.split, sample.state"
    " FROM task JOIN project ON project.id = task.project_id"
    " JOIN sample ON sample.id = task.sample_id WHERE task.id = ?"
)
ADD_ANNOTATION = (
    "INSERT INTO annotation (project_id, sample_id, task_id, annotator_id, value,"
    " seconds_spent, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
TASK_DONE = "UPDATE task SET state = 'done' WHERE id = ?"
VOTES = (
    "SELECT value FROM annotation WHERE sample_id = ? AND retracted_at IS NULL"
    " ORDER BY created_at, id"
)
WRITE_LABEL = (
    "INSERT INTO label (sample_id, project_id, value, method, agreement, n_annotations,"
    " updated_at) VALUES (?, ?, ?, 'majority', ?, ?, ?)"
    " ON CONFLICT (sample_id) DO UPDATE SET value = excluded.value, method = excluded.method,"
    " agreement = excluded.agreement, n_annotations = excluded.n_annotations,"
    " updated_at = excluded.updated_at"
)
STANDING_ANSWER = (
    "SELECT id, annotator_id, value, created_at, sample_id FROM annotation"
    " WHERE task_id = ? AND retracted_at IS NULL ORDER BY id LIMIT 1"
)
LABEL_VALUE = "SELECT value FROM label WHERE sample_id = ?"
TALLY = "UPDATE sample_tally SET n = n + ? WHERE project_id = ? AND split = ? AND state = ?"
AUDIT = (
    "INSERT INTO audit (project_id, actor, action, object_type, object_id, at, detail)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
TASK_VIEW = (
    "SELECT task.id, project.name, task.state, annotator.name, sample.id, sample.external_id,"
    " sample.text, sample.uri, sample.split, sample.state, project.label_space, project.id,"
    " project.task_type, project.settings"
    " FROM task JOIN project ON project.id = task.project_id"
    " JOIN sample ON sample.id = task.sample_id"
    " LEFT OUTER JOIN annotator ON annotator.id = task.annotator_id WHERE task.id = ?"
)
PROJECT = "SELECT id, name, task_type, label_space, settings FROM project WHERE name = ?"


def stored_time(at: datetime) -> str:
    """A naive UTC time as SQLAlchemy's SQLite ``DateTime`` stores it (so text order is time
    order)."""
    return at.isoformat(" ", "microseconds")


def read_time(text: str) -> datetime:
    """The inverse of :func:`stored_time`."""
    return datetime.fromisoformat(text)


def project_id(cur: sqlite3.Cursor, store: Store, name: str) -> int:
    """The project's id, or the NotFoundError of :func:`labelwise.store.get_project`."""
    found = cur.execute(PROJECT_ID, (name,)).fetchone()
    if found is None:
        get_project(store, name)  # raises, naming the projects there are
        raise NotFoundError(f"no project named {name!r} in the store")  # pragma: no cover
    return int(found[0])


def annotator_id(cur: sqlite3.Cursor, name: str) -> int:
    """The annotator's id, or NotFoundError (the message of the SQLAlchemy path)."""
    found = cur.execute(ANNOTATOR_ID, (name,)).fetchone()
    if found is None:
        raise NotFoundError(f"no annotator named {name!r}: add one with add_annotator first")
    return int(found[0])


def flush(cur: sqlite3.Cursor, pending: _hot.Pending) -> None:
    """Write the tally moves and audit rows of ``pending`` (as :meth:`_hot.Pending.flush`)."""
    changed = [
        (n, pending.project_id, split, state)
        for (split, state), n in sorted(pending.tally.items())
        if n
    ]
    if changed:
        cur.executemany(TALLY, changed)
    if pending.audit:
        cur.executemany(
            AUDIT,
            [
                (
                    row["project_id"],
                    row["actor"],
                    row["action"],
                    row["object_type"],
                    row["object_id"],
                    stored_time(row["at"]),
                    json.dumps(row["detail"]),
                )
                for row in pending.audit
            ],
        )
    pending.tally.clear()
    pending.audit.clear()


def lease_in(
    cur: sqlite3.Cursor,
    pending: _hot.Pending,
    who: int,
    annotator: str,
    lease_seconds: float,
    gold_fraction: float,
    now: datetime,
) -> tuple[int, str, str | None, str | None, float, datetime, int] | None:
    """:func:`labelwise.store.leasing.lease_in` on the driver's cursor.

    Returns ``(task_id, external_id, text, uri, priority, expires_at, sample_id)`` or None.
    """
    pid = pending.project_id
    at = stored_time(now)
    reclaimed = _reclaim_expired(cur, pending, at)
    held = cur.execute(HELD, (pid, who, at)).fetchone()
    if held is not None:
        return _lease_view(cur, int(held[0]))
    if gold_fraction > 0 and _gold_due(cur, pid, who, gold_fraction):
        task_id = _lease_gold(cur, pending, who, now, lease_seconds)
        if task_id is not None:
            return _lease_view(cur, task_id)
    picked = cur.execute(PICK, (pid, who)).fetchone()
    if picked is None:
        return None
    task_id, sample_id, external_id, text, uri, priority, split, state = picked
    until = now + timedelta(seconds=lease_seconds)
    cur.execute(TAKE, (who, at, stored_time(until), task_id))
    if state == "queued":
        cur.execute(SET_SAMPLE_STATE, ("in_progress", sample_id))
        pending.move(split, "queued", "in_progress")
    pending.record(
        annotator,
        "lease",
        "task",
        task_id,
        sample_id=sample_id,
        seconds=lease_seconds,
        reclaimed=reclaimed,
    )
    return task_id, external_id, text, uri, priority, until, sample_id


def _reclaim_expired(cur: sqlite3.Cursor, pending: _hot.Pending, at: str) -> int:
    expired = cur.execute(EXPIRED, (pending.project_id, at)).fetchall()
    if not expired:
        return 0
    cur.executemany(RELEASE, [(task_id,) for task_id, _ in expired])
    for sample_id in sorted({sample_id for _, sample_id in expired}):
        busy = cur.execute(BUSY, (sample_id,)).fetchone()[0]
        found = cur.execute(SAMPLE_STATE, (sample_id,)).fetchone()
        if not busy and found is not None and found[1] == "in_progress":
            cur.execute(SET_SAMPLE_STATE, ("queued", sample_id))
            pending.move(found[0], "in_progress", "queued")
    return len(expired)


def _gold_due(cur: sqlite3.Cursor, pid: int, who: int, fraction: float) -> bool:
    answered = int(cur.execute(ANSWERED, (pid, who)).fetchone()[0])
    return math.floor((answered + 1) * fraction) > math.floor(answered * fraction)


def _lease_gold(
    cur: sqlite3.Cursor, pending: _hot.Pending, who: int, now: datetime, lease_seconds: float
) -> int | None:
    found = cur.execute(GOLD_UNSEEN, (pending.project_id, who)).fetchone()
    if found is None:
        return None
    sample_id = int(found[0])
    at = stored_time(now)
    until = stored_time(now + timedelta(seconds=lease_seconds))
    cur.execute(ADD_GOLD_TASK, (pending.project_id, sample_id, who, at, until, at))
    task_id = cur.lastrowid
    assert task_id is not None
    pending.record(str(who), "lease_gold", "task", task_id, sample_id=sample_id)
    return task_id


def _lease_view(
    cur: sqlite3.Cursor, task_id: int
) -> tuple[int, str, str | None, str | None, float, datetime, int]:
    found = cur.execute(LEASE_VIEW, (task_id,)).fetchone()
    if found is None:  # pragma: no cover - the caller just read or wrote this task
        raise NotFoundError(f"no task {task_id} in the store")
    return found[0], found[2], found[3], found[4], found[5], read_time(found[6]), found[1]


def submit_in(
    cur: sqlite3.Cursor,
    task_id: int,
    annotator: str,
    value: str,
    seconds_spent: float | None,
    now: datetime,
) -> tuple[tuple[int, int, str, datetime, str | None], _hot.Pending, int]:
    """:func:`labelwise.store.queue._submit_in` on the driver's cursor.

    Returns ``((annotation_id, sample_id, value, created_at, label), pending, annotator_id)``;
    ``pending`` holds nothing when the same answer was already stored.
    """
    found = cur.execute(SUBMITTED_TASK, (task_id,)).fetchone()
    if found is None:
        raise NotFoundError(f"no task {task_id} in the store")
    pid, sample_id, task_state, holder, expires, name, space, settings, split, state = found
    who = annotator_id(cur, annotator)
    pending = _hot.Pending(pid)
    if task_state == "done":
        return _resubmitted(cur, task_id, who, value), pending, who
    labels = json.loads(space)
    if value not in labels:
        raise StoreError(
            f"label {value!r} is not in project {name!r}'s label space ({', '.join(labels)})"
        )
    if task_state != "leased" or holder != who:
        raise LeaseError(f"task {task_id} is not leased to {annotator!r}: lease a task first")
    expiry = read_time(expires)
    if expiry <= now:
        raise LeaseError(
            f"the lease on task {task_id} expired at {expiry:%Y-%m-%d %H:%M:%S}"
            " UTC: lease a new task"
        )
    if seconds_spent is not None and not (math.isfinite(seconds_spent) and seconds_spent >= 0):
        raise StoreError(f"seconds_spent must be a non-negative number, got {seconds_spent}")
    at = stored_time(now)
    cur.execute(ADD_ANNOTATION, (pid, sample_id, task_id, who, value, seconds_spent, at))
    annotation_id = cur.lastrowid
    assert annotation_id is not None
    cur.execute(TASK_DONE, (task_id,))
    label = None
    if split != "gold":  # gold answers are checked against the gold label, never aggregated
        overlap = int((json.loads(settings) if settings else {}).get("overlap", 1))
        values = [row[0] for row in cur.execute(VOTES, (sample_id,))]
        if len(values) >= overlap:
            label, agreement = majority(values)
            cur.execute(WRITE_LABEL, (sample_id, pid, label, agreement, len(values), at))
            if state != "labeled":
                pending.move(split, state, "labeled")
                cur.execute(SET_SAMPLE_STATE, ("labeled", sample_id))
    pending.record(
        annotator,
        "annotate",
        "annotation",
        annotation_id,
        task_id=task_id,
        sample_id=sample_id,
        value=value,
    )
    return (annotation_id, sample_id, value, now, label), pending, who


def _resubmitted(
    cur: sqlite3.Cursor, task_id: int, who: int, value: str
) -> tuple[int, int, str, datetime, str | None]:
    stored = cur.execute(STANDING_ANSWER, (task_id,)).fetchone()
    if stored is None:
        raise LeaseError(f"task {task_id} was skipped; lease a new task")
    annotation_id, holder, stored_value, created_at, sample_id = stored
    if holder != who or stored_value != value:
        raise LeaseError(f"task {task_id} was already answered; lease a new task")
    label = cur.execute(LABEL_VALUE, (sample_id,)).fetchone()
    return (
        annotation_id,
        sample_id,
        stored_value,
        read_time(created_at),
        (None if label is None else label[0]),
    )


def task_row(store: Store, task_id: int) -> tuple[Any, ...] | None:
    """The row of :data:`TASK_VIEW` for ``task_id`` (JSON columns decoded), or None."""
    with store.sqlite_read() as conn:
        found = conn.execute(TASK_VIEW, (task_id,)).fetchone()
    if found is None:
        return None
    row = list(found)
    row[10] = json.loads(row[10])
    row[13] = json.loads(row[13]) if row[13] else {}
    return tuple(row)


def project_info(store: Store, name: str) -> ProjectInfo:
    """:func:`labelwise.store.get_project` in one fixed statement (same NotFoundError)."""
    with store.sqlite_read() as conn:
        found = conn.execute(PROJECT, (name,)).fetchone()
    if found is None:
        return get_project(store, name)  # raises, naming the projects there are
    settings = json.loads(found[4]) if found[4] else {}
    return ProjectInfo(found[0], found[1], found[2], tuple(json.loads(found[3])), settings)
