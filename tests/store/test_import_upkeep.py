"""After a large import into PostgreSQL the planner knows the new rows (VACUUM (ANALYZE)).

``TIDY_MIN_ROWS`` is made small so that a few rows count as a large import.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from labelwise.store import Store, _bulk, import_samples
from tests.store.factories import write_csv

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(store: Store) -> Store:
    if store.dialect != "postgresql":
        pytest.skip("the upkeep is PostgreSQL's (SQLite's plans here use no statistics)")
    return store


def rows(n: int, start: int = 0) -> list[dict[str, str]]:
    return [
        {"id": f"r{i}", "text": f"text {i}", "label": ("neg", "pos")[i % 2] if i % 2 else ""}
        for i in range(start, start + n)
    ]


def planner_rows(store: Store) -> dict[str, float]:
    """The row counts the planner holds for ``sample`` and ``label`` (-1: never analyzed)."""
    with store.read() as session:
        return {
            table: session.execute(
                text(f"SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass")
            ).scalar_one()
            for table in ("sample", "label")
        }


def test_a_large_import_is_analyzed_once_committed(
    pg_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bulk, "TIDY_MIN_ROWS", 10)
    assert planner_rows(pg_store) == {"sample": -1, "label": -1}
    import_samples(pg_store, write_csv(tmp_path / "a.csv", rows(40)), "p", labels=["neg", "pos"])
    assert planner_rows(pg_store) == {"sample": 40, "label": 20}


def test_a_small_import_is_not_followed_by_upkeep(
    pg_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bulk, "TIDY_MIN_ROWS", 10)
    import_samples(pg_store, write_csv(tmp_path / "few.csv", rows(9)), "p", labels=["neg", "pos"])
    assert planner_rows(pg_store) == {"sample": -1, "label": -1}


def test_an_import_under_a_tenth_of_the_table_leaves_the_statistics(
    pg_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bulk, "TIDY_MIN_ROWS", 2)
    import_samples(pg_store, write_csv(tmp_path / "a.csv", rows(40)), "p", labels=["neg", "pos"])
    import_samples(pg_store, write_csv(tmp_path / "b.csv", rows(3, start=40)), "p")
    assert planner_rows(pg_store) == {"sample": 40, "label": 20}
    import_samples(pg_store, write_csv(tmp_path / "c.csv", rows(5, start=43)), "p")
    assert planner_rows(pg_store) == {"sample": 48, "label": 24}
