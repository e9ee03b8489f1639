"""Opening, creating and migrating stores on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from labelwise.store import (
    SchemaError,
    Store,
    StoreError,
    init_store,
    normalize_url,
    open_store,
)
from labelwise.store.engine import head_revision
from labelwise.store.schema import Base, Sample
from tests.store.factories import pool_project


def test_postgresql_urls_go_to_psycopg3() -> None:
    assert normalize_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_default_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABELWISE_STORE", raising=False)
    assert normalize_url() == "sqlite:///labelwise.db"
    monkeypatch.setenv("LABELWISE_STORE", "sqlite:///other.db")
    assert normalize_url() == "sqlite:///other.db"


def test_migrations_build_exactly_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_init_twice_is_an_upgrade_that_keeps_data(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path)
    again = init_store(store.url)
    reopened = open_store(store.url)
    try:
        with reopened.read() as session:
            assert session.get(Sample, ids["s0"]) is not None
    finally:
        again.close()
        reopened.close()


def test_open_refuses_a_database_without_schema(store_url: str) -> None:
    with pytest.raises(SchemaError, match="labelwise init"):
        open_store(store_url)


def test_open_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="no store"):
        open_store(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()


def test_init_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        init_store(f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.close()


def test_schema_is_at_the_head_revision(store: Store) -> None:
    with store.engine.connect() as connection:
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert found == head_revision()


def test_the_database_itself_refuses_to_queue_the_eval_split(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path)
    with pytest.raises(IntegrityError), store.write() as session:
        session.execute(update(Sample).where(Sample.id == ids["ev"]).values(state="queued"))


def test_foreign_keys_are_enforced(store: Store) -> None:
    from labelwise.store.schema import Score

    with pytest.raises(IntegrityError), store.write() as session:
        session.add(Score(round_id=999, sample_id=999, value=1.0))
