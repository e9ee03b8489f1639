"""add_samples: pool samples from Python rows in one transaction, ids back in order, counts kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from labelwise.store import (
    NotFoundError,
    Store,
    StoreError,
    add_samples,
    create_project,
    import_samples,
    list_samples,
    status,
)
from labelwise.store.schema import Audit


def _tallied(store: Store, project: str) -> dict[str, int]:
    """The non-zero sample counts by state that status reads from ``sample_tally``."""
    return {state: n for state, n in status(store, project).by_state.items() if n}


def _added_audits(store: Store) -> list[Audit]:
    with store.read() as session:
        query = select(Audit).where(Audit.action == "add_samples").order_by(Audit.id)
        return list(session.scalars(query))


def test_samples_are_added_to_the_pool_with_their_ids_in_order(store: Store) -> None:
    create_project(store, "feed", ["neg", "pos"])
    rows = [{"id": f"item-{i}", "text": f"text {i}"} for i in (3, 1, 2)]
    ids = add_samples(store, "feed", rows, actor="crawler")
    records = {record.id: record for record in list_samples(store, "feed")}
    assert [records[i].external_id for i in ids] == ["item-3", "item-1", "item-2"]
    assert {(r.split, r.state) for r in records.values()} == {("pool", "unlabeled")}
    assert records[ids[1]].text == "text 1"
    assert status(store, "feed").samples == 3
    assert _tallied(store, "feed") == {"unlabeled": 3}
    [audit] = _added_audits(store)
    assert (audit.actor, audit.detail) == ("crawler", {"inserted": 3})


def test_samples_added_one_call_at_a_time_keep_the_counts(store: Store) -> None:
    create_project(store, "feed", ["neg", "pos"])
    ids = [add_samples(store, "feed", [{"id": str(i), "text": "t"}])[0] for i in range(5)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    assert _tallied(store, "feed") == {"unlabeled": 5}
    assert len(_added_audits(store)) == 5


def test_ids_given_twice_are_refused_by_name_and_nothing_is_written(store: Store) -> None:
    create_project(store, "feed", ["neg", "pos"])
    rows = [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}]
    with pytest.raises(StoreError, match="ids given more than once: 'a'; nothing was added"):
        add_samples(store, "feed", rows)
    assert list_samples(store, "feed") == []
    assert status(store, "feed").samples == 0
    assert _added_audits(store) == []


def test_ids_already_in_the_project_are_refused_by_name_and_nothing_is_written(
    store: Store,
) -> None:
    create_project(store, "feed", ["neg", "pos"])
    add_samples(store, "feed", [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}])
    with pytest.raises(StoreError, match="ids already in project 'feed': 'b'"):
        add_samples(store, "feed", [{"id": "c", "text": "new"}, {"id": "b", "text": "again"}])
    assert [record.external_id for record in list_samples(store, "feed")] == ["a", "b"]
    assert _tallied(store, "feed") == {"unlabeled": 2}
    assert len(_added_audits(store)) == 1


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"text": "no id"}, "row 1: missing column 'id'"),
        ({"id": "x"}, "row 1: sample 'x' has no 'text' \\(a text project\\)"),
        ({"id": "x", "text": "t", "label": "pos"}, "row 1: add_samples adds unlabeled pool"),
        ({"id": "x", "text": "t", "split": "eval"}, "row 1: add_samples adds unlabeled pool"),
    ],
)
def test_a_bad_row_is_named_by_its_position(store: Store, row: dict, problem: str) -> None:
    create_project(store, "feed", ["neg", "pos"])
    with pytest.raises(StoreError, match=problem):
        add_samples(store, "feed", [{"id": "fine", "text": "ok"}, row])
    assert status(store, "feed").samples == 0


def test_an_image_project_takes_image_uris(store: Store) -> None:
    create_project(store, "pics", ["cat", "dog"], "image_classification")
    [sample_id] = add_samples(store, "pics", [{"id": "p1", "image": "https://example.org/1.png"}])
    [record] = list_samples(store, "pics")
    assert (record.id, record.uri, record.text) == (sample_id, "https://example.org/1.png", None)


def test_importing_an_added_row_again_changes_nothing(store: Store, tmp_path: Path) -> None:
    create_project(store, "feed", ["neg", "pos"])
    row = {"id": "a", "text": "some text", "source": "rss"}
    add_samples(store, "feed", [row])
    path = tmp_path / "again.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    report = import_samples(store, path, "feed")
    assert (report.inserted, report.unchanged) == (0, 1)


def test_an_unknown_project_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no project named 'nowhere'"):
        add_samples(store, "nowhere", [{"id": "a", "text": "x"}])


def test_no_rows_add_nothing(store: Store) -> None:
    create_project(store, "feed", ["neg", "pos"])
    assert add_samples(store, "feed", []) == []
    assert _added_audits(store) == []
