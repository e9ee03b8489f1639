"""Multi-label simulation: metrics against scikit-learn's, a real run on the yeast set."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss

from labelwise.datasets.tasks import load_task_dataset
from labelwise.errors import InvalidInputError
from labelwise.simulate.multilabel import multilabel_metrics
from labelwise.simulate.task_report import write_task_results
from labelwise.simulate.task_run import TaskSimulationConfig, run_task_simulation


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    Y, P = rng.integers(0, 2, size=(25, 6)), rng.integers(0, 2, size=(25, 6))
    P[:, 0] = Y[:, 0] = 0  # a label never true nor predicted: macro-F1 counts it as 0
    got = multilabel_metrics(Y, P)
    assert got["micro_f1"] == pytest.approx(f1_score(Y, P, average="micro"))
    assert got["macro_f1"] == pytest.approx(f1_score(Y, P, average="macro", zero_division=0))
    assert got["subset_accuracy"] == pytest.approx(accuracy_score(Y, P))
    assert got["hamming_loss"] == pytest.approx(hamming_loss(Y, P))


def test_metrics_refuse_one_dimensional_labels() -> None:
    with pytest.raises(InvalidInputError, match="equal 2-D shapes"):
        multilabel_metrics([1, 0], [1, 0])


def test_yeast_loads_from_the_river_wheel() -> None:
    data = load_task_dataset("yeast")
    assert data.task == "multilabel"
    assert data.X.shape == (2417, 103) and data.y.shape == (2417, 14)
    assert set(np.unique(data.y)) == {0, 1}
    assert data.y.sum(axis=1).mean() == pytest.approx(4.237, abs=1e-3)  # MULAN's cardinality


@pytest.mark.slow
def test_a_small_run_on_yeast_writes_the_report(tmp_path) -> None:
    config = TaskSimulationConfig(
        "multilabel",
        "yeast",
        ("mmc",),
        seeds=(0,),
        initial=20,
        batch_size=20,
        budget=60,
        pool_size=400,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_task_simulation(config)
    assert {"micro_f1", "macro_f1", "subset_accuracy", "hamming_loss"} <= set(result.rounds)
    assert set(result.rounds["n_labels"]) == {20, 40, 60}
    assert 0.5 < result.full_data[0] < 0.75  # yeast, one-vs-rest logistic regression
    paths = write_task_results(result, tmp_path)
    assert "micro_f1" in paths["report"].read_text()
