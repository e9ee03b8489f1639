"""The WAL checkpointer: the log moves into the database file off the writers' path."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from labelwise.store import Store, init_store
from labelwise.store.checkpointer import WalCheckpointer
from labelwise.store.engine import SQLITE_CHECKPOINT_PAGES


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    store = init_store(f"sqlite:///{tmp_path / 'lw.db'}")
    yield store  # type: ignore[misc]
    store.close()


def _write_pages(store: Store, n: int) -> None:
    """About ``n`` WAL pages of audit-free scratch writes, far below the autocheckpoint."""
    with store.sqlite_write() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS scratch (x BLOB)")
    for _ in range(n):
        with store.sqlite_write() as conn:
            conn.execute("INSERT INTO scratch VALUES (?)", (os.urandom(3000),))


def test_the_log_is_checkpointed_without_any_commit_doing_it(sqlite_store: Store) -> None:
    _write_pages(sqlite_store, 200)
    assert SQLITE_CHECKPOINT_PAGES > 200  # no commit crossed the autocheckpoint bound
    with WalCheckpointer(sqlite_store, interval=0.02) as checkpointer:
        deadline = time.monotonic() + 10
        while checkpointer.last is None or checkpointer.last[2] < checkpointer.last[1]:
            assert time.monotonic() < deadline, checkpointer.last
            time.sleep(0.02)
    busy, frames, done = checkpointer.last
    assert busy == 0 and frames >= 200 and done == frames
    assert checkpointer.checkpoints >= 1


def test_writers_go_on_while_it_runs(sqlite_store: Store) -> None:
    with WalCheckpointer(sqlite_store, interval=0.005) as checkpointer:
        _write_pages(sqlite_store, 300)
    with sqlite_store.sqlite_read() as conn:
        assert conn.execute("SELECT count(*) FROM scratch").fetchone()[0] == 300
    assert checkpointer.checkpoints >= 1


def test_the_interval_must_be_positive(sqlite_store: Store) -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        WalCheckpointer(sqlite_store, interval=0)


def test_the_annotation_server_checkpoints_its_sqlite_store(sqlite_store: Store) -> None:
    from labelwise.server.runtime import Runtime
    from labelwise.server.settings import ServerSettings

    runtime = Runtime(sqlite_store, ServerSettings(store=sqlite_store.url, background=False))
    runtime.start()
    checkpointer = runtime._checkpointer
    assert checkpointer is not None and checkpointer._thread is not None
    runtime.close()
    assert checkpointer._thread is None and runtime._checkpointer is None


def test_it_needs_a_sqlite_file(tmp_path: Path) -> None:
    memory = init_store("sqlite://")
    try:
        assert memory.sqlite_path is None
        with pytest.raises(ValueError, match="needs a SQLite file store"):
            WalCheckpointer(memory)
    finally:
        memory.close()
