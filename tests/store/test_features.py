"""Stored features: a float32 vector per sample and kind, saved and read back in bulk.

Runs on SQLite and, when LABELWISE_TEST_PG_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelwise.store import (
    NotFoundError,
    Store,
    StoreError,
    iter_features,
    load_features,
    normalize_url,
    save_features,
)
from labelwise.store.features import (
    CHUNK_ROWS,
    count_features,
    declare_features,
    feature_set,
)
from tests.store.factories import pool_project


@pytest.fixture
def ids(store: Store, tmp_path: Path) -> list[int]:
    """Store ids of project ``p``'s seven samples (six pool, one eval)."""
    return sorted(pool_project(store, tmp_path).values())


def test_saved_features_are_read_back_row_for_row(store: Store, ids: list[int]) -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(len(ids), 5)).astype(np.float32)
    assert save_features(store, "p", ids, matrix, "k") == len(ids)
    back, missing = load_features(store, "p", ids[::-1], "k")
    assert missing == []
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, matrix[::-1])


def test_samples_without_features_are_named_and_left_nan(store: Store, ids: list[int]) -> None:
    save_features(store, "p", ids[:2], np.ones((2, 3)), "k")
    back, missing = load_features(store, "p", [ids[3], ids[0], ids[4]], "k")
    assert missing == [ids[3], ids[4]]
    np.testing.assert_array_equal(back[1], np.ones(3, dtype=np.float32))
    assert np.isnan(back[[0, 2]]).all()


def test_a_kind_never_stored_has_every_sample_missing(store: Store, ids: list[int]) -> None:
    back, missing = load_features(store, "p", ids[:3], "never")
    assert back.shape == (3, 0) and missing == ids[:3]
    assert feature_set(store, "p", "never") is None


def test_saving_again_replaces_the_rows(store: Store, ids: list[int]) -> None:
    save_features(store, "p", ids[:2], np.zeros((2, 4)), "k")
    save_features(store, "p", ids[1:3], np.full((2, 4), 7.0), "k")
    back, _ = load_features(store, "p", ids[:3], "k")
    np.testing.assert_array_equal(back[:, 0], [0.0, 7.0, 7.0])
    assert count_features(store, "p", "k") == 3


def test_kinds_are_kept_apart(store: Store, ids: list[int]) -> None:
    save_features(store, "p", ids[:1], [[1.0, 2.0]], "a")
    save_features(store, "p", ids[:1], [[3.0, 4.0, 5.0]], "b")
    np.testing.assert_array_equal(load_features(store, "p", ids[:1], "a")[0], [[1.0, 2.0]])
    np.testing.assert_array_equal(load_features(store, "p", ids[:1], "b")[0], [[3.0, 4.0, 5.0]])


def test_another_width_under_a_stored_kind_is_refused(store: Store, ids: list[int]) -> None:
    save_features(store, "p", ids[:1], np.zeros((1, 4)), "k")
    with pytest.raises(StoreError, match="4-d, not 5-d"):
        save_features(store, "p", ids[1:2], np.zeros((1, 5)), "k")
    assert load_features(store, "p", ids[1:2], "k")[1] == ids[1:2]


def test_ids_of_another_project_store_nothing(store: Store, ids: list[int]) -> None:
    with pytest.raises(NotFoundError, match="not samples of project 'p'"):
        save_features(store, "p", [ids[0], 10**9], np.zeros((2, 3)), "k")
    assert count_features(store, "p", "k") == 0


@pytest.mark.parametrize(
    ("matrix", "problem"),
    [
        (np.zeros((2, 3)), r"\(n, d\) matrix for n = 3"),
        (np.zeros(3), r"\(n, d\) matrix"),
        (np.array([[0.0], [np.nan], [1.0]]), "finite"),
    ],
)
def test_malformed_matrices_are_refused(
    store: Store, ids: list[int], matrix: np.ndarray, problem: str
) -> None:
    with pytest.raises(StoreError, match=problem):
        save_features(store, "p", ids[:3], matrix, "k")


def test_repeated_ids_are_refused(store: Store, ids: list[int]) -> None:
    with pytest.raises(StoreError, match="distinct"):
        save_features(store, "p", [ids[0], ids[0]], np.zeros((2, 2)), "k")


def test_the_first_declared_parameters_stand(store: Store, ids: list[int]) -> None:
    first = declare_features(store, "p", "scaled", 2, {"mean": [1.0, 2.0]})
    again = declare_features(store, "p", "scaled", 2, {"mean": [9.0, 9.0]})
    assert first.params == again.params == {"mean": [1.0, 2.0]}
    save_features(store, "p", ids[:1], np.zeros((1, 2)), "scaled", params={"mean": [0.0, 0.0]})
    info = feature_set(store, "p", "scaled")
    assert info is not None and info.dim == 2 and info.params == {"mean": [1.0, 2.0]}


def test_chunks_cover_every_stored_row_once_by_id(store: Store, ids: list[int]) -> None:
    matrix = np.arange(len(ids) * 2, dtype=np.float32).reshape(-1, 2)
    save_features(store, "p", ids, matrix, "k")
    chunks = list(iter_features(store, "p", "k", chunk_rows=3))
    assert [c[0].size for c in chunks] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([c[0] for c in chunks]), ids)
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), matrix)


def test_chunks_of_given_ids_follow_their_order(store: Store, ids: list[int]) -> None:
    matrix = np.arange(len(ids), dtype=np.float32).reshape(-1, 1)
    save_features(store, "p", ids, matrix, "k")
    wanted = ids[::-2]
    chunks = list(iter_features(store, "p", "k", wanted, chunk_rows=2))
    np.testing.assert_array_equal(np.concatenate([c[0] for c in chunks]), wanted)
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), matrix[::-2])


def test_more_rows_than_one_statement_takes_go_in_one_call(store: Store, tmp_path: Path) -> None:
    from labelwise.store import import_samples
    from tests.store.factories import write_csv

    n = CHUNK_ROWS + 7
    rows = [{"id": f"s{i}", "text": f"t{i}", "label": "a" if i % 2 else "b"} for i in range(n)]
    import_samples(store, write_csv(tmp_path / "big.csv", rows), "big")
    from labelwise.store import list_samples

    big = [s.id for s in list_samples(store, "big")]
    matrix = np.random.default_rng(1).normal(size=(n, 8)).astype(np.float32)
    save_features(store, "big", big, matrix, "k")
    back, missing = load_features(store, "big", big, "k")
    assert missing == []
    np.testing.assert_array_equal(back, matrix)


def test_a_store_from_before_features_upgrades_with_its_data(store_url: str) -> None:
    """0004 rebuilds ``project`` and ``sample``, which other tables reference."""
    from alembic import command
    from sqlalchemy import text

    from labelwise.store import create_project, init_store, list_samples
    from labelwise.store.engine import _alembic_config, _make_engine

    engine, _ = _make_engine(normalize_url(store_url))
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0003")
        connection.execute(
            text(
                "INSERT INTO project (name, task_type, label_space, settings, created_at) "
                "VALUES ('old', 'text_classification', '[\"a\", \"b\"]', '{}', :t)"
            ),
            {"t": "2026-01-01 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO sample (project_id, external_id, text, split, state, content_hash) "
                "SELECT id, 's0', 'kept', 'pool', 'unlabeled', 'h' FROM project"
            )
        )
    engine.dispose()
    upgraded = init_store(store_url)
    try:
        assert [s.text for s in list_samples(upgraded, "old")] == ["kept"]
        create_project(upgraded, "rows", ["a", "b"], "tabular_classification")
        (sample,) = list_samples(upgraded, "old")
        save_features(upgraded, "old", [sample.id], [[1.0]], "k")
    finally:
        upgraded.close()
