"""A round's lean snapshot of the pool: the same samples, order and states as
:func:`list_samples`, with full records read back by batch only when asked."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import delete, update

from labelwise.store import SampleRecord, Store, create_project, list_samples
from labelwise.store.adding import add_samples
from labelwise.store.samples import SampleSnapshot, sample_snapshot
from labelwise.store.schema import Sample

STATES = ("unlabeled", "queued", "in_progress", "labeled", "skipped")


def _project(store: Store, n: int = 60, seed: int = 0) -> list[SampleRecord]:
    """A project of ``n`` samples in random states and splits (eval never queued), and a second
    project whose samples must never show up."""
    create_project(store, "p", ["a", "b"], "text_classification")
    create_project(store, "other", ["a", "b"], "text_classification")
    add_samples(store, "other", [{"id": f"o{i}", "text": f"other {i}"} for i in range(5)])
    rng = np.random.default_rng(seed)
    rows = [
        {"id": f"s{i}", "text": f"text number {i} " + "x" * int(rng.integers(0, 9))}
        for i in range(n)
    ]
    add_samples(store, "p", rows)
    samples = list_samples(store, "p")
    with store.write() as session:
        for s in samples:
            split = str(rng.choice(["pool", "pool", "eval"]))
            states = STATES if split == "pool" else ("unlabeled", "labeled", "skipped")
            session.execute(
                update(Sample)
                .where(Sample.id == s.id)
                .values(split=split, state=str(rng.choice(states)))
            )
    return list_samples(store, "p")


@pytest.mark.parametrize("split", [None, "pool", "eval"])
@pytest.mark.parametrize("state", [None, "unlabeled", "queued"])
def test_snapshot_holds_the_samples_of_list_samples(
    store: Store, split: str | None, state: str | None
) -> None:
    _project(store)
    expected = list_samples(store, "p", split=split, state=state)  # type: ignore[arg-type]
    snap = sample_snapshot(store, "p", split=split, state=state)  # type: ignore[arg-type]
    assert snap.ids.tolist() == [s.id for s in expected]
    assert snap.states.tolist() == [s.state for s in expected]
    assert list(snap) == expected  # iteration reads the records by batch
    assert len(snap) == len(expected)


def test_records_at_any_positions_equal_the_full_records(store: Store) -> None:
    everything = _project(store)
    snap = sample_snapshot(store, "p")
    rng = np.random.default_rng(1)
    for _ in range(5):
        positions = rng.integers(-len(snap), len(snap), size=int(rng.integers(0, 30)))
        assert snap.records(positions) == [everything[int(k)] for k in positions]
    assert snap[3] == everything[3]
    assert snap[np.int64(-1)] == everything[-1]
    assert snap[5:40:7] == everything[5:40:7]


def test_where_state_keeps_order_and_matches_a_filter(store: Store) -> None:
    everything = _project(store)
    snap = sample_snapshot(store, "p", split="pool")
    candidates = snap.where_state("unlabeled", "queued")
    expected = [s for s in everything if s.split == "pool" and s.state in ("unlabeled", "queued")]
    assert isinstance(candidates, SampleSnapshot)
    assert candidates.ids.tolist() == [s.id for s in expected]
    assert list(candidates) == expected


def test_records_keep_the_state_of_the_snapshot(store: Store) -> None:
    _project(store)
    snap = sample_snapshot(store, "p")
    before = snap.states.copy()
    with store.write() as session:
        session.execute(
            update(Sample).where(Sample.id.in_(snap.ids.tolist())).values(state="labeled")
        )
    assert [r.state for r in snap.records(range(len(snap)))] == before.tolist()


def test_bad_positions_and_deleted_samples_are_named(store: Store) -> None:
    _project(store, n=10)
    snap = sample_snapshot(store, "p")
    with pytest.raises(IndexError, match="outside a snapshot of 10"):
        snap[10]
    with pytest.raises(IndexError, match="outside"):
        snap.records([0, -11])
    with store.write() as session:
        session.execute(delete(Sample).where(Sample.id == int(snap.ids[4])))
    with pytest.raises(LookupError, match=f"samples \\[{int(snap.ids[4])}\\]"):
        snap.records([3, 4])
    with pytest.raises(ValueError, match="one length"):
        SampleSnapshot(store, snap.ids, snap.states[:-1])


def test_an_empty_snapshot(store: Store) -> None:
    create_project(store, "p", ["a", "b"], "text_classification")
    snap = sample_snapshot(store, "p")
    assert len(snap) == 0 and list(snap) == [] and snap.records([]) == []
    assert len(snap.where_state("queued")) == 0
