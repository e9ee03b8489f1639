"""A tiny end-to-end simulation: files, monotone label counts, determinism and the fence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from labelwise.datasets import Dataset, load_dataset
from labelwise.simulate import SimulationConfig, run_simulation, write_results
from labelwise.simulate.problem import initial_indices, make_problem
from labelwise.simulate.report import render_report, summary_of
from labelwise.strategies import PoolInputs, Selection, Strategy, register_strategy
from labelwise.strategies.base import unregister_strategy

TINY = {"initial": 10, "batch_size": 10, "budget": 40, "test_size": 0.3}


@pytest.fixture(scope="module")
def wine() -> Dataset:
    return load_dataset("wine")


@pytest.fixture(scope="module")
def tiny_run(wine: Dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    config = SimulationConfig(dataset="wine", strategies=("margin",), seeds=2, **TINY)
    result = run_simulation(config, dataset=wine)
    out = tmp_path_factory.mktemp("run")
    write_results(result, out)
    return out, result


def test_a_run_writes_every_output_file(tiny_run: tuple[Path, object]) -> None:
    out, _ = tiny_run
    for name in ("rounds.csv", "rounds.parquet", "summary.json", "report.md", "learning_curve.png"):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    assert "margin" in report and "ratio to random" in report


def test_rounds_are_tidy_with_monotone_label_counts(tiny_run: tuple[Path, object]) -> None:
    out, _ = tiny_run
    rounds = pd.read_csv(out / "rounds.csv")
    assert list(rounds.columns[:7]) == [
        "strategy",
        "seed",
        "round",
        "n_labels",
        "accuracy",
        "macro_f1",
        "ece",
    ]
    assert {f"recall_class_{i}" for i in range(3)} <= set(rounds.columns)
    assert len(rounds) == 2 * 2 * 4  # strategies x seeds x rounds (10, 20, 30, 40 labels)
    for _, curve in rounds.groupby(["strategy", "seed"]):
        assert curve["n_labels"].tolist() == [10, 20, 30, 40]
        assert curve["round"].tolist() == [0, 1, 2, 3]


def test_summary_holds_full_data_accuracy_and_ratios(tiny_run: tuple[Path, object]) -> None:
    out, _ = tiny_run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True
    assert set(summary["full_data_accuracy"]["per_seed"]) == {"0", "1"}
    assert 0.8 < summary["full_data_accuracy"]["mean"] <= 1.0
    margin = summary["strategies"]["margin"]
    assert set(margin["labels_to_target"]) == {"95%", "98%", "99%"}
    assert "ratio_to_random" in margin["labels_to_target"]["95%"]


def test_the_same_seed_gives_the_same_numbers(wine: Dataset, tiny_run: tuple[Path, object]) -> None:
    _, first = tiny_run
    config = SimulationConfig(dataset="wine", strategies=("margin",), seeds=2, **TINY)
    again = run_simulation(config, dataset=wine)
    cols = ["strategy", "seed", "n_labels", "accuracy", "macro_f1", "ece"]
    pd.testing.assert_frame_equal(first.rounds[cols], again.rounds[cols])  # type: ignore[attr-defined]


def test_parallel_workers_give_the_same_numbers_as_one_process(
    tiny_run: tuple[Path, object],
) -> None:
    _, first = tiny_run
    config = SimulationConfig(dataset="wine", strategies=("margin",), seeds=2, workers=2, **TINY)
    parallel = run_simulation(config)
    cols = ["strategy", "seed", "n_labels", "accuracy"]
    pd.testing.assert_frame_equal(first.rounds[cols], parallel.rounds[cols])  # type: ignore[attr-defined]
    assert parallel.full_data_accuracy == first.full_data_accuracy  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- the fence
SENTINEL = 1e6
SEEN: list[PoolInputs] = []


class _FenceSpy(Strategy):
    """Reads everything a strategy can be given and records it."""

    name: ClassVar[str] = "_fence_spy"
    needs = frozenset({"proba", "embeddings", "labeled_embeddings"})

    def _select(self, inputs, batch_size, rng, exclude):  # type: ignore[no-untyped-def]
        SEEN.append(inputs)
        return Selection(np.arange(batch_size), np.zeros(batch_size))


def _fenced_dataset() -> Dataset:
    """A fixed test split whose every feature is a sentinel value no pool row holds."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(np.intp)
    X_test = np.full((20, 3), SENTINEL)
    y_test = np.arange(20, dtype=np.intp) % 2
    return Dataset("fenced", X, y, ("no", "yes"), X_test=X_test, y_test=y_test)


@pytest.fixture
def fence_spy() -> Iterator[None]:
    """The spy, registered for one test only (other tests see the registry unchanged)."""
    register_strategy(_FenceSpy)
    yield
    unregister_strategy(_FenceSpy.name)


@pytest.mark.usefixtures("fence_spy")
def test_a_strategy_cannot_see_the_test_split() -> None:
    SEEN.clear()
    ds = _fenced_dataset()
    config = SimulationConfig(
        dataset="fenced",
        strategies=("_fence_spy",),
        seeds=1,
        initial=10,
        batch_size=5,
        budget=25,
        full_data=False,
    )
    run_simulation(config, dataset=ds)
    assert len(SEEN) == 3
    for inputs in SEEN:
        assert inputs.embeddings is not None and inputs.labeled_embeddings is not None
        assert inputs.proba is not None
        # every row handed over is a pool row: no sentinel, and the sizes add up to the pool
        assert not np.isin(SENTINEL, inputs.embeddings)
        assert not np.isin(SENTINEL, inputs.labeled_embeddings)
        assert inputs.n_pool + len(inputs.labeled_embeddings) == len(ds.X)
        assert inputs.proba.shape[0] == inputs.n_pool
        # and nothing in the inputs carries labels: only model outputs and features
        labelled_fields = {"y", "labels", "y_test", "y_pool"}
        assert not labelled_fields & set(vars(inputs))


def test_the_drawn_test_split_never_overlaps_the_pool(wine: Dataset) -> None:
    config = SimulationConfig(dataset="wine", seeds=1, **TINY)
    problem = make_problem(wine, config, seed=3)
    assert problem.test_ids is not None
    assert np.intersect1d(problem.pool_ids, problem.test_ids).size == 0
    assert problem.pool_ids.size + problem.test_ids.size == len(wine.X)
    np.testing.assert_array_equal(problem.X_pool, wine.X[problem.pool_ids])
    # stratified: each class keeps about its share in the test split
    for c in range(3):
        share = np.mean(wine.y[problem.test_ids] == c) - np.mean(wine.y == c)
        assert abs(share) < 0.05


def test_a_balanced_initial_set_has_equal_counts_per_class() -> None:
    y = np.repeat(np.arange(10), 50)
    chosen = initial_indices(y, 20, "balanced", np.random.default_rng(0), 10)
    assert np.bincount(y[chosen], minlength=10).tolist() == [2] * 10
    assert np.unique(chosen).size == 20


def test_a_toml_file_configures_the_same_run(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        '[simulation]\ndataset = "wine"\nstrategies = ["margin"]\nseeds = 2\ninitial = 10\n'
        'batch_size = 10\nbudget = 40\ntest_size = 0.3\nout = "runs/x"\n'
    )
    from_file = SimulationConfig.from_toml(path)
    assert from_file == SimulationConfig(dataset="wine", strategies=("margin",), seeds=2, **TINY)
    assert from_file.strategies == ("random", "margin")


def test_unknown_settings_are_refused_by_name() -> None:
    from labelwise.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="bugdet"):
        SimulationConfig.from_dict({"bugdet": 10})
    with pytest.raises(InvalidInputError, match="budget"):
        SimulationConfig(budget=10, initial=20)


def test_a_curve_ends_at_the_first_round_reaching_stop_accuracy(wine: Dataset) -> None:
    full = run_simulation(
        SimulationConfig(dataset="wine", strategies=("margin",), seeds=1, **TINY), dataset=wine
    ).rounds
    level = float(full["accuracy"].median())
    stopped_result = run_simulation(
        SimulationConfig(
            dataset="wine", strategies=("margin",), seeds=1, stop_accuracy=level, **TINY
        ),
        dataset=wine,
    )
    stopped = stopped_result.rounds
    summary = summary_of(stopped_result)
    assert "areas and final accuracies are not comparable" in render_report(summary)
    for name, curve in stopped.groupby("strategy"):
        reference = full[full["strategy"] == name].reset_index(drop=True)
        first = int(np.argmax(reference["accuracy"].to_numpy() >= level))
        pd.testing.assert_frame_equal(
            curve.reset_index(drop=True).drop(columns=["train_seconds", "acquisition_seconds"]),
            reference.iloc[: first + 1].drop(columns=["train_seconds", "acquisition_seconds"]),
        )


def test_stop_accuracy_must_be_a_fraction() -> None:
    from labelwise.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="stop_accuracy"):
        SimulationConfig(stop_accuracy=95.0)


def test_seeds_added_later_give_the_curves_a_longer_run_gives(
    wine: Dataset, tiny_run: tuple[Path, object]
) -> None:
    """Seeds 0 and 1 in one run equal seed 1 alone, run later without the baseline."""
    _, first = tiny_run
    later = run_simulation(
        SimulationConfig(
            dataset="wine", strategies=("margin",), seeds=(1,), baseline=False, **TINY
        ),
        dataset=wine,
    )
    assert set(later.rounds["strategy"]) == {"margin"}  # no random added
    columns = ["strategy", "seed", "round", "n_labels", "accuracy", "macro_f1"]
    earlier = first.rounds  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(
        later.rounds[columns].reset_index(drop=True),
        earlier[(earlier["seed"] == 1) & (earlier["strategy"] == "margin")][columns].reset_index(
            drop=True
        ),
    )


def test_a_report_without_the_random_baseline_says_so(wine: Dataset, tmp_path: Path) -> None:
    config = SimulationConfig(
        dataset="wine", strategies=("margin",), seeds=1, baseline=False, **TINY
    )
    write_results(run_simulation(config, dataset=wine), tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "no random baseline in this run" in report
    assert "needs" not in report  # no ratio claimed without random's curves


def test_seeds_must_be_distinct_and_non_negative() -> None:
    from labelwise.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="distinct"):
        SimulationConfig(seeds=(1, 1))
    with pytest.raises(InvalidInputError, match="distinct"):
        SimulationConfig(seeds=(-1, 2))


def test_the_report_renders_again_from_summary_json(wine: Dataset, tmp_path: Path) -> None:
    """Unmeasured figures are NaN in memory and null in the file: both render as n/a."""
    config = SimulationConfig(
        dataset="wine", strategies=("margin",), seeds=2, full_data=False, **TINY
    )
    write_results(run_simulation(config, dataset=wine), tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (
        summary["strategies"]["margin"]["labels_to_target"]["95%"]["ratio_to_random"]["ratio"]
        is None
    )
    assert render_report(summary) == (tmp_path / "report.md").read_text()


def test_zero_seeds_is_refused_with_how_to_name_one_seed() -> None:
    from labelwise.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="7-7"):
        SimulationConfig(seeds=0)


def test_a_diversity_that_is_not_auto_on_or_off_is_refused() -> None:
    import pytest

    from labelwise.errors import InvalidInputError
    from labelwise.simulate import SimulationConfig

    with pytest.raises(InvalidInputError, match="diversity"):
        SimulationConfig(diversity="sometimes")  # type: ignore[arg-type]
    assert SimulationConfig().diversity == "auto"
