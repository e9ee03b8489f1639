"""Regression simulation: metrics against scikit-learn's, a real run on shipped data."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from labelwise.datasets.tasks import load_task_dataset
from labelwise.errors import InvalidInputError
from labelwise.simulate.regression import regression_metrics
from labelwise.simulate.task_report import summarize_task, write_task_results
from labelwise.simulate.task_run import TaskSimulationConfig, run_task_simulation


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, f = rng.normal(size=30), rng.normal(size=30)
    got = regression_metrics(y, f)
    assert got["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, f)))
    assert got["mae"] == pytest.approx(mean_absolute_error(y, f))
    assert got["r2"] == pytest.approx(r2_score(y, f))


def test_metrics_refuse_mismatched_shapes() -> None:
    with pytest.raises(InvalidInputError, match="equal 1-D shapes"):
        regression_metrics([1.0, 2.0], [1.0])


@pytest.mark.parametrize(("name", "shape"), [("diabetes", (442, 10)), ("fair", (6366, 8))])
def test_shipped_regression_sets_load(name: str, shape: tuple[int, int]) -> None:
    data = load_task_dataset(name, "regression")
    assert data.X.shape == shape and data.y.shape == (shape[0],)
    assert np.isfinite(data.y).all()


def test_a_multilabel_set_is_refused_as_regression() -> None:
    with pytest.raises(InvalidInputError, match="'yeast' is a multilabel dataset"):
        load_task_dataset("yeast", "regression")


def test_a_classification_strategy_is_refused_for_regression() -> None:
    with pytest.raises(InvalidInputError, match="does not serve regression"):
        TaskSimulationConfig("regression", "diabetes", ("margin",))


def test_a_small_run_writes_curves_and_a_report(tmp_path) -> None:
    config = TaskSimulationConfig(
        "regression",
        "diabetes",
        ("igs", "emcm"),
        seeds=(0, 1),
        initial=10,
        batch_size=10,
        budget=40,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_task_simulation(config)
    rounds = result.rounds
    assert list(rounds["strategy"].unique()) == ["random", "igs", "emcm"]
    assert set(rounds["n_labels"]) == {10, 20, 30, 40}
    assert {"rmse", "mae", "r2"} <= set(rounds.columns)
    assert 0.3 < result.full_data[0] < 0.7  # diabetes: a linear model explains about half
    summary = summarize_task(result)
    igs = summary["strategies"]["igs"]
    assert igs["labels_to_target"]["95%"]["n"] <= 2 and "vs_random" in igs
    paths = write_task_results(result, tmp_path)
    assert json.loads(paths["summary"].read_text())["metric"] == "r2"
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| igs |" in paths["report"].read_text()


def test_the_command_line_runs_a_regression_simulation(tmp_path) -> None:
    from labelwise.cli import main

    args = ["simulate", "--task", "regression", "--strategies", "random,gsy", "--seeds", "4,5"]
    args += ["--initial", "10", "--batch-size", "15", "--budget", "40", "--out", str(tmp_path)]
    with warnings.catch_warnings(), pytest.raises(SystemExit) as done:
        warnings.simplefilter("ignore")
        main([*args, "--quiet"])
    assert done.value.code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["dataset"] == "diabetes" and list(summary["strategies"]) == ["random", "gsy"]
    assert set(summary["full_data_r2"]["per_seed"]) == {"4", "5"}


def test_classification_only_flags_are_refused_by_name(tmp_path, capsys) -> None:
    from labelwise.cli import main

    with pytest.raises(SystemExit) as done:
        main(["simulate", "--task", "regression", "--candidates", "50", "--out", str(tmp_path)])
    assert done.value.code == 1
    assert "--candidates: for classification only" in capsys.readouterr().err
