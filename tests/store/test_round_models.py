"""Rounds' fitted models as bytes: kept with the round, the newest few per project, migrated."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, select, text

from labelwise.store import Store, StoreError, import_samples, record_round
from labelwise.store.round_models import (
    MODELS_KEPT,
    ModelBlob,
    newest_model_round,
    newest_round_model,
)
from labelwise.store.schema import Audit, RoundModel
from tests.store.factories import pool_project, write_csv


def _blob(n: int) -> ModelBlob:
    return ModelBlob(bytes([n % 256]) * (1000 + n), "test-format/1", "hashed-1024")


def _kept(store: Store) -> list[int]:
    with store.read() as session:
        return list(session.scalars(select(RoundModel.round_number).order_by("round_number")))


def test_a_round_keeps_its_model_in_its_own_transaction(store: Store, tmp_path: Path) -> None:
    pool_project(store, tmp_path)
    assert newest_model_round(store, "p") is None and newest_round_model(store, "p") is None
    record_round(store, "p", "margin")  # a cold round: no model
    info = record_round(store, "p", "margin", model=_blob(7))
    assert newest_model_round(store, "p") == info.number == 2
    stored = newest_round_model(store, "p")
    assert stored is not None and stored.round_number == 2
    assert stored.blob == _blob(7)  # bytes, format and feature kind as given
    with store.read() as session:
        detail = session.scalars(select(Audit.detail).where(Audit.action == "record_round"))
        assert [d["model_bytes"] for d in detail] == [None, len(_blob(7).data)]


def test_a_round_that_fails_keeps_no_model(store: Store, tmp_path: Path) -> None:
    pool_project(store, tmp_path)
    with pytest.raises(StoreError):
        record_round(store, "p", "margin", sample_ids=[1, 2], scores=[0.5], model=_blob(1))
    assert newest_model_round(store, "p") is None and _kept(store) == []


def test_only_the_newest_models_of_a_project_are_kept(store: Store, tmp_path: Path) -> None:
    pool_project(store, tmp_path)
    for n in range(1, 6):
        record_round(store, "p", "margin", model=None if n == 3 else _blob(n))
    assert _kept(store) == [4, 5][-MODELS_KEPT:]
    record_round(store, "p", "margin", model=_blob(6), keep_models=1)
    assert _kept(store) == [6]
    with pytest.raises(StoreError, match="at least one"):
        record_round(store, "p", "margin", model=_blob(7), keep_models=0)
    assert _kept(store) == [6]  # the refused round left nothing behind


def test_models_belong_to_their_project(store: Store, tmp_path: Path) -> None:
    pool_project(store, tmp_path)
    rows = [{"id": "q0", "text": "another", "split": "pool"}]
    import_samples(store, write_csv(tmp_path / "q.csv", rows), "q", labels=["a", "b"])
    record_round(store, "p", "margin", model=_blob(1))
    record_round(store, "p", "margin", model=_blob(2))
    record_round(store, "q", "margin", model=_blob(3))
    assert newest_model_round(store, "p") == 2 and newest_model_round(store, "q") == 1
    found = newest_round_model(store, "q")
    assert found is not None and found.blob == _blob(3)
    assert newest_model_round(store, "nope") is None


def test_migration_0008_adds_the_table_to_a_store_with_rounds(store_url: str) -> None:
    from alembic import command

    from labelwise.store import open_store
    from labelwise.store.engine import _alembic_config, _make_engine, head_revision

    engine, _ = _make_engine(store_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0007")
            connection.execute(
                text(
                    "INSERT INTO project (name, task_type, answer_kind, label_space, settings,"
                    " created_at) VALUES ('old', 'text_classification', 'label',"
                    " '[\"neg\", \"pos\"]', '{}', :now)"
                ),
                {"now": "2026-01-02 03:04:05"},
            )
            connection.execute(
                text(
                    "INSERT INTO round (project_id, number, strategy, batch_size, metrics,"
                    " created_at) SELECT id, 1, 'margin', 10, '{}', :now FROM project"
                ),
                {"now": "2026-01-02 03:04:05"},
            )
        with engine.begin() as connection:
            assert "round_model" not in _tables(connection)
            command.upgrade(_alembic_config(connection), "head")  # 0008 and any later
        store = open_store(store_url)
        try:
            assert newest_model_round(store, "old") is None  # the old round has no model
            record_round(store, "old", "margin", model=_blob(2))
            assert newest_model_round(store, "old") == 2
        finally:
            store.close()
        with engine.begin() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert version == head_revision()
            command.downgrade(_alembic_config(connection), "0007")
        with engine.begin() as connection:
            assert "round_model" not in _tables(connection)
            command.upgrade(_alembic_config(connection), "0008")
        with engine.begin() as connection:
            assert "round_model" in _tables(connection)
    finally:
        engine.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())
