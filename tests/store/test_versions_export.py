"""Dataset versions (a version per round, checkout keeps annotations) and export formats."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from labelwise.store import (
    NotFoundError,
    Store,
    checkout_version,
    create_dataset_version,
    enqueue,
    export_labeled,
    labeled_set,
    lease_next_task,
    list_versions,
    record_round,
    status,
    submit_annotation,
)
from tests.store.factories import pool_project, snapshot, tally_matches_samples


def label(store: Store, ids: dict[str, int], names: list[str], value: str) -> None:
    enqueue(store, "p", [ids[n] for n in names])
    for _ in names:
        lease = lease_next_task(store, "p", "a0")
        assert lease is not None
        submit_annotation(store, lease.task_id, "a0", value, seconds_spent=2.0)


def labeled(store: Store) -> dict[str, str]:
    return {s.external_id: value for s, value in labeled_set(store, "p")}


def test_checkout_restores_the_labeled_set_and_keeps_annotations(
    store: Store, tmp_path: Path
) -> None:
    ids = pool_project(store, tmp_path, n=4)
    label(store, ids, ["s0"], "pos")
    one = record_round(store, "p", "entropy")
    label(store, ids, ["s1", "s2"], "neg")
    record_round(store, "p", "entropy")
    assert [(v.number, v.round_number, v.n_members) for v in list_versions(store, "p")] == [
        (1, 1, 1),
        (2, 2, 3),
    ]
    annotations = snapshot(store)["annotations"]
    checkout_version(store, "p", one.version_number or 0)
    assert labeled(store) == {"s0": "pos"}
    assert snapshot(store)["annotations"] == annotations == 3
    assert status(store, "p").by_state["unlabeled"] == 4  # s1, s2, s3 and the eval sample
    assert tally_matches_samples(store)
    checkout_version(store, "p", 2)
    assert labeled(store) == {"s0": "pos", "s1": "neg", "s2": "neg"}


def test_equal_labeled_sets_have_equal_hashes(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=2)
    label(store, ids, ["s0"], "pos")
    first = create_dataset_version(store, "p")
    second = create_dataset_version(store, "p", note="same labels")
    label(store, ids, ["s1"], "pos")
    third = create_dataset_version(store, "p")
    assert first.content_hash == second.content_hash != third.content_hash


def test_unknown_version_is_refused(store: Store, tmp_path: Path) -> None:
    pool_project(store, tmp_path, n=1)
    with pytest.raises(NotFoundError, match="no dataset version 7"):
        checkout_version(store, "p", 7)


@pytest.mark.parametrize("file_format", ["jsonl", "csv", "parquet"])
def test_export_holds_labels_agreement_and_annotations(
    store: Store, tmp_path: Path, file_format: str
) -> None:
    ids = pool_project(store, tmp_path, n=3)
    label(store, ids, ["s0", "s1"], "pos")
    out = tmp_path / f"out.{file_format}"
    assert export_labeled(store, "p", out, file_format) == 2  # type: ignore[arg-type]
    if file_format == "jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    elif file_format == "csv":
        with out.open() as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            row["annotations"] = json.loads(row["annotations"])
            row["agreement"] = float(row["agreement"])
    else:
        rows = pq.read_table(out).to_pylist()
    assert [(r["id"], r["label"], r["split"]) for r in rows] == [
        ("s0", "pos", "pool"),
        ("s1", "pos", "pool"),
    ]
    assert all(r["agreement"] == 1.0 for r in rows)
    votes = rows[0]["annotations"]
    assert [(v["annotator"], v["label"], float(v["seconds_spent"])) for v in votes] == [
        ("a0", "pos", 2.0)
    ]


def test_export_of_an_old_version(store: Store, tmp_path: Path) -> None:
    ids = pool_project(store, tmp_path, n=3)
    label(store, ids, ["s0"], "pos")
    create_dataset_version(store, "p")
    label(store, ids, ["s1"], "neg")
    out = tmp_path / "v1.jsonl"
    assert export_labeled(store, "p", out, "jsonl", version=1) == 1
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (row["id"], row["label"], len(row["annotations"])) == ("s0", "pos", 1)
