"""A round's measurements: eval accuracy counted by hand, the stop set fixed, kappas' rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelwise.controller.features import feature_source_for
from labelwise.controller.measure import RoundMeasurer, round_kappas
from labelwise.controller.settings import loop_settings
from labelwise.controller.stopping import prediction_kappa
from labelwise.store import import_samples, init_store, labeled_set
from labelwise.store.samples import sample_snapshot
from tests.server.conftest import write_project_csv


class _Constant:
    """Predicts class ``k`` with probability ``p`` for every sample."""

    def __init__(self, k: int, p: float) -> None:
        self.k, self.p = k, p

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        out = np.full((len(X), 2), 1.0 - self.p)
        out[:, self.k] = self.p
        return out


def test_eval_accuracy_and_stop_set_match_a_count_by_hand(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    import_samples(
        store, write_project_csv(tmp_path / "p.csv", 30, 11, 0), "p", labels=["neg", "pos"]
    )
    settings = loop_settings({}, stop_set_size=12)
    measurer = RoundMeasurer(store, "p", "label", ["neg", "pos"], chunk_size=4)
    features = feature_source_for(store, "p", text="hashed")  # no model to load
    pool = sample_snapshot(store, "p", split="pool")
    truth = [label for _, label in labeled_set(store, "p", split="eval")]
    measured = measurer.measure(_Constant(1, 0.7), features, pool, settings)
    assert measured.eval_accuracy == pytest.approx(truth.count("pos") / len(truth))
    assert measured.stop_predictions == [1] * 12
    assert measured.max_uncertainty == pytest.approx(0.3)
    again = measurer.measure(_Constant(0, 0.9), features, pool, settings)
    assert again.eval_accuracy == pytest.approx(truth.count("neg") / len(truth))
    assert again.stop_predictions == [0] * 12  # the same 12 samples, another model
    assert measurer.measure(None, features, pool, settings).eval_accuracy is None
    store.close()


def test_round_kappas_append_only_for_new_labels_on_the_same_stop_set() -> None:
    previous = {"kappas": [0.5], "stop_predictions": [0, 1, 1, 0]}
    now = [0, 1, 0, 0]
    assert round_kappas(previous, now, new_labels=True) == [
        0.5,
        prediction_kappa([0, 1, 1, 0], now),
    ]
    assert round_kappas(previous, now, new_labels=False) == [0.5]
    assert round_kappas(previous, [0, 1], new_labels=True) == [0.5]  # the stop set changed size
    assert round_kappas({}, now, new_labels=True) == []
