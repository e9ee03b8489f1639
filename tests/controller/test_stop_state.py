"""One stop state, counted only over rounds that saw new labels."""

from __future__ import annotations

from pathlib import Path

from labelwise.controller import Controller, stop_state
from labelwise.store import (
    add_annotator,
    import_samples,
    init_store,
    lease_next_task,
    list_rounds,
    submit_annotation,
)
from tests.server.conftest import write_project_csv


def _label(store, n: int) -> None:
    for _ in range(n):
        lease = lease_next_task(store, "p", "a")
        assert lease is not None
        label = "pos" if int(lease.external_id[1:]) % 2 else "neg"
        submit_annotation(store, lease.task_id, "a", label)


def test_rounds_without_new_labels_never_stabilise_predictions(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    import_samples(store, write_project_csv(tmp_path / "p.csv", 60, 10, 0), "p")
    add_annotator(store, "a")
    controller = Controller(store, "p")
    controller.configure(batch_size=8, features="hashed", stop_kappa=0.5, stop_window=2)
    controller.run_round()
    _label(store, 8)
    controller.run_round()
    kappas = list(list_rounds(store, "p")[-1].metrics["kappas"])
    for _ in range(3):  # "run a round now", again and again, with no new label
        report = controller.run_round()
        assert not report.stop.stop
    assert list_rounds(store, "p")[-1].metrics["kappas"] == kappas
    assert not stop_state(store, "p").stop
    _label(store, 4)
    controller.run_round()
    _label(store, 4)
    last = controller.run_round()
    assert len(list_rounds(store, "p")[-1].metrics["kappas"]) == len(kappas) + 2
    # the one stop state: what the round decided is what every reader sees
    assert stop_state(store, "p") == last.stop == controller.stop_decision()
    store.close()
