"""A stream run against a real SQLite store: asked items are queued, answers teach the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelwise.errors import InvalidInputError, StoreError
from labelwise.store import (
    add_annotator,
    init_store,
    lease_next_task,
    list_samples,
    status,
    submit_annotation,
)
from labelwise.strategies import VariableUncertainty
from labelwise.stream import StreamItem, StreamRun, StreamSelector, from_iterable, runner


def _items(n: int) -> list[StreamItem]:
    words = ["great fun", "awful bore", "lovely", "terrible"]
    return [StreamItem(str(i), text=f"{words[i % 4]} {i}") for i in range(n)]


def test_asked_items_are_queued_by_uncertainty_and_answers_come_back(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    add_annotator(store, "ann")
    rule = VariableUncertainty(budget=0.2, window=10)
    run = StreamRun(StreamSelector(["neg", "pos"], rule), store, "feed", sync_every=5)
    for item in _items(10):
        run.step(item)
    assert run.report.asked == 2  # floor(0.2 * 10) in the first window
    assert status(store, "feed").by_state.get("queued", 0) == 2
    for _ in range(2):
        lease = lease_next_task(store, "feed", "ann")
        assert lease is not None
        submit_annotation(
            store, lease.task_id, "ann", "pos" if "great" in (lease.text or "") else "neg"
        )
    report = run.run(iter(_items(30)[10:]))
    assert report.seen == 30
    assert report.answers == 2
    assert report.refits >= 1
    assert report.asked <= 6  # 0.2 of every 10 items, exactly
    assert run.selector.model is not None
    store.close()


def test_an_item_without_text_or_image_cannot_be_queued(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    run = StreamRun(StreamSelector(["a", "b"], VariableUncertainty(budget=1.0)), store, "p")
    selector_item = StreamItem("1", features=(1.0, 2.0))
    with pytest.raises(InvalidInputError, match="annotators need something to look at"):
        run.step(selector_item)
    store.close()


def test_label_space_must_match_an_existing_project(tmp_path: Path) -> None:
    from labelwise.store import create_project

    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    create_project(store, "p", ["x", "y"])
    run = StreamRun(StreamSelector(["a", "b"], VariableUncertainty(budget=1.0)), store, "p")
    with pytest.raises(InvalidInputError, match="same label space"):
        run.run(from_iterable([{"id": 1, "text": "t"}]))
    store.close()


def test_a_long_stream_queues_every_asked_item_under_its_own_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pool_scans(*args: object, **kwargs: object) -> None:
        raise AssertionError("the runner read the whole pool to find one item")

    # the runner once scanned the pool after each asked item to find its new id
    monkeypatch.setattr(runner, "list_samples", no_pool_scans, raising=False)
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    run = StreamRun(StreamSelector(["neg", "pos"], VariableUncertainty(budget=1.0)), store, "feed")
    report = run.run(iter(_items(200)))
    assert report.seen == 200
    assert report.asked > 100
    samples = list_samples(store, "feed")
    assert [s.external_id for s in samples] == report.asked_ids
    assert {s.state for s in samples} == {"queued"}
    counts = status(store, "feed")
    assert counts.samples == report.asked
    assert {state: n for state, n in counts.by_state.items() if n} == {"queued": report.asked}
    add_annotator(store, "ann")
    lease = lease_next_task(store, "feed", "ann")
    assert lease is not None
    by_id = {s.id: s for s in samples}
    assert by_id[lease.sample_id].external_id == lease.external_id  # queued under its own id
    assert lease.text == next(i.text for i in _items(200) if i.id == lease.external_id)
    store.close()


def test_an_item_id_seen_before_is_refused_and_nothing_more_is_written(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    run = StreamRun(StreamSelector(["neg", "pos"], VariableUncertainty(budget=1.0)), store, "feed")
    run.step(StreamItem("7", text="first"))
    with pytest.raises(StoreError, match="ids already in project 'feed': '7'"):
        run.step(StreamItem("7", text="first"))  # once imported as "unchanged", counted as asked
    assert [(s.external_id, s.text) for s in list_samples(store, "feed")] == [("7", "first")]
    assert run.report.asked == 1
    assert status(store, "feed").by_state["queued"] == 1
    store.close()
