"""Prepared statements (compiled once per dialect, run on the driver) give what SQLAlchemy's own
execution gives: the same stored text, the same values read back."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from labelwise.store import Store, _hot, enqueue, lease_next_task
from labelwise.store._statement import sqlite_time
from labelwise.store.schema import Audit, Task
from tests.store.factories import pool_project


def test_sqlite_time_writes_what_sqlalchemys_datetime_writes() -> None:
    reference = sqlite.DATETIME().bind_processor(sqlite.dialect())
    assert reference is not None
    rng = np.random.default_rng(0)
    start = datetime(1, 1, 1)
    for seconds in rng.integers(0, 3_155_000_000 * 20, size=2000):
        at = start + timedelta(seconds=int(seconds), microseconds=int(rng.integers(0, 10**6)))
        assert sqlite_time(at, reference) == reference(at)
    assert sqlite_time(datetime(2026, 1, 2), reference) == "2026-01-02 00:00:00.000000"


def test_prepared_rows_equal_sqlalchemys_rows(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=3)
    enqueue(store, "p", list(ids.values())[:3], [0.5, 0.25, 0.125])
    lease = lease_next_task(store, "p", "a0")
    assert lease is not None
    checks = [
        (_hot.TASK_VIEW, {"tid": lease.task_id}),
        (_hot.LEASE_VIEW, {"tid": lease.task_id}),
        (_hot.PROJECT_INFO, {"name": "p"}),
        (_hot.EXPIRED, {"pid": 1, "now": datetime(2999, 1, 1)}),
    ]
    for prepared, params in checks:
        with store.driver_read() as driver:
            ours = driver.all(prepared, **params)
        with store.engine.connect() as conn:
            theirs = [tuple(row) for row in conn.execute(prepared.statement, params)]  # type: ignore[call-overload]
        assert ours == theirs and ours
    with store.read() as session:
        audit = session.scalars(select(Audit).where(Audit.action == "lease")).one()
        held = session.get_one(Task, lease.task_id)
    assert (
        audit.detail["sample_id"] == lease.sample_id and held.lease_expires_at == lease.expires_at
    )
