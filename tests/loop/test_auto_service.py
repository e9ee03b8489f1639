"""``auto`` in the annotation service: the controller's rounds drive its feedback through the
engine, and each round records the arm that chose."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelwise.controller import Controller
from labelwise.store import (
    add_annotator,
    import_samples,
    init_store,
    lease_next_task,
    list_rounds,
    submit_annotation,
)
from labelwise.strategies.auto import Auto
from tests.server.conftest import write_project_csv


@pytest.mark.slow
def test_service_rounds_feed_auto_and_record_its_arm(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    import_samples(
        store, write_project_csv(tmp_path / "p.csv", 80, 20, 0), "p", labels=["neg", "pos"]
    )
    add_annotator(store, "a")
    controller = Controller(store, "p")
    controller.configure(batch_size=8, stop_kappa=None, strategy="auto")
    assert controller.run_round().cold
    for _ in range(4):
        for _ in range(8):
            lease = lease_next_task(store, "p", "a")
            assert lease is not None
            label = "pos" if int(lease.external_id[1:]) % 2 else "neg"
            submit_annotation(store, lease.task_id, "a", label)
        report = controller.run_round()
        assert report.strategy.startswith("auto:")
    engine = controller._engine
    assert engine is not None and isinstance(engine.strategy, Auto)
    assert engine.strategy.rewards  # labels of its picks came back and were scored
    recorded = [r.strategy for r in list_rounds(store, "p")]
    assert recorded[0] == "kmeans" and all(s.startswith("auto:") for s in recorded[1:])
    store.close()
