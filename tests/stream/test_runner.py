"""A stream run against a real SQLite store: asked items are queued, answers teach the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelwise.errors import InvalidInputError
from labelwise.store import add_annotator, init_store, lease_next_task, status, submit_annotation
from labelwise.strategies import VariableUncertainty
from labelwise.stream import StreamItem, StreamRun, StreamSelector, from_iterable


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
