"""The loop over the store: stopping rules with known values, rounds that learn, eval fenced off."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from labelwise.controller import (
    Controller,
    decide_stop,
    loop_settings,
    prediction_kappa,
    stabilizing_predictions,
)
from labelwise.errors import InvalidInputError
from labelwise.store import import_samples, init_store, lease_next_task, submit_annotation
from labelwise.store.schema import Sample, Task
from tests.server.conftest import write_project_csv


def test_prediction_kappa_matches_cohen_by_hand() -> None:
    # 2x2 table: agree on 3 of 4; marginals a = (2, 2), b = (1, 3): p_e = (2*1 + 2*3) / 16 = 0.5
    assert prediction_kappa([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx((0.75 - 0.5) / 0.5)
    assert prediction_kappa([2, 2, 2], [2, 2, 2]) == 1.0


def test_stabilizing_predictions_averages_the_last_window() -> None:
    assert not stabilizing_predictions([0.99, 0.99], 0.99, window=3)
    assert stabilizing_predictions([0.5, 0.99, 0.995, 1.0], 0.99, window=3)
    assert not stabilizing_predictions([0.99, 0.99, 0.97], 0.99, window=3)


def test_decide_stop_names_the_first_rule_that_holds() -> None:
    common = dict(kappas=[], stop_kappa=None, stop_window=3, max_uncertainty=0.4)
    spent = decide_stop(
        budget=10,
        budget_used=10,
        eval_accuracy=None,
        target_accuracy=None,
        uncertainty_threshold=None,
        **common,
    )
    assert spent.stop and "budget" in (spent.reason or "")
    target = decide_stop(
        budget=None,
        budget_used=0,
        eval_accuracy=0.95,
        target_accuracy=0.9,
        uncertainty_threshold=None,
        **common,
    )
    assert target.stop and "target" in (target.reason or "")
    calm = decide_stop(
        budget=None,
        budget_used=0,
        eval_accuracy=0.5,
        target_accuracy=0.9,
        uncertainty_threshold=0.5,
        **common,
    )
    assert calm.stop and "uncertainty" in (calm.reason or "")
    going = decide_stop(
        budget=None,
        budget_used=0,
        eval_accuracy=0.5,
        target_accuracy=0.9,
        uncertainty_threshold=0.1,
        **common,
    )
    assert not going.stop


def test_loop_settings_are_checked() -> None:
    with pytest.raises(InvalidInputError):
        loop_settings({}, strategy="no-such-thing")
    with pytest.raises(InvalidInputError):
        loop_settings({}, batch_size=0)
    with pytest.raises(InvalidInputError):
        loop_settings({"loop": {"typo": 1}})
    with pytest.raises(InvalidInputError, match="diversity"):
        loop_settings({}, diversity="sometimes")
    assert loop_settings({"loop": {"diversity": "off"}}).diversity == "off"


def test_rounds_learn_and_never_queue_the_eval_split(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    import_samples(
        store, write_project_csv(tmp_path / "p.csv", 60, 20, 0), "p", labels=["neg", "pos"]
    )
    from labelwise.store import add_annotator

    add_annotator(store, "a")
    controller = Controller(store, "p")
    controller.configure(batch_size=10, stop_kappa=None)
    first = controller.run_round()
    assert first.strategy == "kmeans" and first.cold and first.queued == 10
    for _ in range(3):
        for _ in range(8):
            lease = lease_next_task(store, "p", "a")
            assert lease is not None
            label = "pos" if int(lease.external_id[1:]) % 2 else "neg"
            submit_annotation(store, lease.task_id, "a", label)
        report = controller.run_round()
    assert report.strategy == "margin" and report.n_labeled == 24
    assert report.eval_accuracy is not None and report.eval_accuracy >= 0.9
    assert report.kappa is not None
    with store.read() as session:
        queued_splits = set(
            session.scalars(select(Sample.split).join(Task, Task.sample_id == Sample.id))
        )
    assert queued_splits == {"pool"}
    store.close()


def _answered_store(tmp_path: Path, name: str, diversity: str) -> Controller:
    from labelwise.store import add_annotator

    store = init_store(f"sqlite:///{tmp_path / name}")
    import_samples(
        store, write_project_csv(tmp_path / f"{name}.csv", 120, 20, 0), "p", labels=["neg", "pos"]
    )
    add_annotator(store, "a")
    controller = Controller(store, "p")
    controller.configure(batch_size=10, stop_kappa=None, diversity=diversity, features="hashed")
    controller.run_round()
    for _ in range(10):
        lease = lease_next_task(store, "p", "a")
        assert lease is not None
        label = "pos" if int(lease.external_id[1:]) % 2 else "neg"
        submit_annotation(store, lease.task_id, "a", label)
    return controller


def test_the_diversity_setting_reaches_the_service_round(tmp_path: Path) -> None:
    plain = _answered_store(tmp_path, "off.db", "off").run_round()
    spread = _answered_store(tmp_path, "on.db", "on").run_round()
    assert plain.strategy == spread.strategy == "margin"
    assert len(set(spread.picks)) == len(spread.picks) == len(plain.picks)
    assert set(spread.picks) != set(plain.picks)
