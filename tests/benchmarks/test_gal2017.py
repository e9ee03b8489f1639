"""The Gal et al. 2017 report: runs combine curve by curve, and each level counts only the
curves that can speak for it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from benchmarks.gal2017 import (
    INITIAL,
    acquired_to_error,
    claim_run_dir,
    combine_runs,
    common_setup,
    common_span,
    curves_at,
    paired_ratio,
    read_setup,
    table,
    write_figure,
)

BUDGET = INITIAL + 1000
SETUP = {"epochs": 100, "mc_samples": 100, "candidates": 2000}


def curve(strategy: str, seed: int, accuracy: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "strategy": strategy,
            "seed": seed,
            "n_labels": [INITIAL + 10 * i for i in range(len(accuracy))],
            "accuracy": accuracy,
        }
    )


def test_a_rerun_to_a_further_level_replaces_its_shorter_self() -> None:
    short = curve("bald", 3, [0.5, 0.91])
    longer = curve("bald", 3, [0.5, 0.91, 0.93, 0.96])
    other = curve("random", 3, [0.4, 0.6])
    combined = combine_runs([pd.concat([short, other]), longer])
    assert combined[combined["strategy"] == "bald"]["accuracy"].tolist() == [0.5, 0.91, 0.93, 0.96]
    assert len(combined) == 6


def test_two_runs_that_disagree_on_a_shared_round_are_refused() -> None:
    with pytest.raises(SystemExit, match="bald seed 3"):
        combine_runs([curve("bald", 3, [0.5, 0.91]), curve("bald", 3, [0.5, 0.92, 0.96])])


def test_a_curve_stopped_at_10_percent_counts_at_10_not_as_a_miss_at_5() -> None:
    rounds = pd.concat(
        [
            curve("bald", 0, [0.5, 0.91, 0.96]),  # reached both levels
            curve("bald", 1, [0.5, 0.8, 0.92]),  # stopped at 10% by design
            curve("bald", 2, [0.5, 0.7]),  # cut short before either
        ]
    )
    at10 = curves_at(rounds, 0.10, BUDGET)
    at5 = curves_at(rounds, 0.05, BUDGET)
    assert sorted(at10["seed"].unique()) == [0, 1]
    assert sorted(at5["seed"].unique()) == [0]
    assert acquired_to_error(at10, "bald", 0.10) == [10.0, 20.0]
    assert acquired_to_error(at5, "bald", 0.05) == [20.0]


def test_a_curve_that_ran_the_whole_budget_is_a_real_miss() -> None:
    accuracy = [0.5] + [0.93] * 100  # 1000 acquired, never at 5% error
    rounds = curve("random", 0, accuracy)
    at5 = curves_at(rounds, 0.05, BUDGET)
    assert [math.isnan(v) for v in acquired_to_error(at5, "random", 0.05)] == [True]


def test_the_table_shows_each_figure_with_its_seed_count() -> None:
    rounds = pd.concat(
        [
            curve("bald", 0, [0.5, 0.91, 0.96]),
            curve("bald", 1, [0.5, 0.8, 0.92]),
            curve("random", 0, [0.5, 0.6, 0.7]),
        ]
    )
    text = table(rounds, complete=False, seconds=None, budget=BUDGET, setup=SETUP)
    bald = next(line for line in text.splitlines() if line.startswith("| bald |"))
    assert "15 ± 7 (10, 20)" in bald and "| 2 / 1 |" in bald
    assert "Left out, ended before 10% error: random seed 0" in text


def test_a_level_no_curve_went_to_says_not_run() -> None:
    rounds = curve("bald", 0, [0.5, 0.91])
    text = table(rounds, complete=True, seconds=None, budget=BUDGET, setup=SETUP)
    bald = next(line for line in text.splitlines() if line.startswith("| bald |"))
    assert "not run" in bald and "not reached" not in bald
    assert "5%: none" in text


def test_the_table_says_how_the_network_trained() -> None:
    text = table(curve("bald", 0, [0.5, 0.91]), True, None, BUDGET, setup=SETUP)
    assert "retrained from scratch for 100 epochs each round" in text
    assert "100 MC Dropout samples score 2,000 random pool points" in text


def test_a_run_without_setup_json_is_read_from_its_summary(tmp_path: Path) -> None:
    config = {"model_params": {"epochs": 50}, "n_mc_samples": 100, "candidates": 2000}
    (tmp_path / "summary.json").write_text(json.dumps({"config": config}))
    assert read_setup(tmp_path) == {"epochs": 50, "mc_samples": 100, "candidates": 2000}


def test_runs_trained_for_different_epochs_are_not_reported_together(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for directory, epochs in ((a, 100), (b, 50)):
        directory.mkdir()
        (directory / "setup.json").write_text(json.dumps({**SETUP, "epochs": epochs}))
    assert common_setup([a, a]) == SETUP
    with pytest.raises(SystemExit, match=r"'epochs': 50.*must share their setup"):
        common_setup([a, b])
    with pytest.raises(SystemExit, match=r"no setup\.json or summary\.json"):
        common_setup([tmp_path])


def test_the_figure_averages_each_strategy_only_where_all_its_seeds_run() -> None:
    rounds = pd.concat(
        [
            curve("bald", 0, [0.5, 0.91, 0.96]),
            curve("bald", 1, [0.5, 0.92]),
            curve("random", 0, [0.4, 0.6, 0.7, 0.8]),
        ]
    )
    span = common_span(rounds)
    assert span.groupby("strategy")["n_labels"].max().to_dict() == {
        "bald": INITIAL + 10,
        "random": INITIAL + 30,
    }


def test_the_figure_is_written_with_the_paper_marked(tmp_path: Path) -> None:
    rounds = pd.concat([curve("bald", 0, [0.5, 0.91, 0.96]), curve("mean_std", 0, [0.5, 0.9])])
    path = write_figure(rounds, tmp_path / "gal2017.png", SETUP)
    assert path.stat().st_size > 10_000


def test_bald_against_random_pairs_the_seeds_both_reached_the_level_with() -> None:
    rounds = pd.concat(
        [
            curve("bald", 0, [0.5, 0.96]),  # 10 acquired
            curve("bald", 1, [0.5, 0.9, 0.96]),  # 20
            curve("bald", 2, [0.5, 0.5, 0.5, 0.96]),  # 30, random has no seed 2
            curve("random", 0, [0.5, 0.6, 0.96]),  # 20
            curve("random", 1, [0.5, 0.6, 0.7, 0.8, 0.96]),  # 40
        ]
    )
    ratio, seeds = paired_ratio(rounds, 0.05) or (math.nan, [])
    assert seeds == [0, 1]
    assert ratio == pytest.approx(15 / 30)
    text = table(rounds, True, None, BUDGET, setup=SETUP)
    assert "0.50x over seeds 0, 1 (those where both reached it)" in text
    assert paired_ratio(curve("bald", 0, [0.5, 0.96]), 0.05) is None


def test_a_run_is_refused_before_training_where_its_setup_would_mix(tmp_path: Path) -> None:
    old, fresh, other = tmp_path / "old", tmp_path / "fresh", tmp_path / "other"
    old.mkdir()
    curve("bald", 0, [0.5, 0.9]).to_csv(old / "rounds.partial.csv", index=False)
    with pytest.raises(SystemExit, match=r"holds rounds of a run with setup None"):
        claim_run_dir(old, SETUP, [])  # rounds with no record of how they were trained
    assert not (old / "setup.json").exists()
    claim_run_dir(fresh, SETUP, [])
    assert read_setup(fresh) == SETUP
    curve("bald", 0, [0.5, 0.9]).to_csv(fresh / "rounds.csv", index=False)
    claim_run_dir(fresh, SETUP, [])  # the same setup again: a rerun into its own directory
    with pytest.raises(SystemExit, match="choose another --out"):
        claim_run_dir(fresh, {**SETUP, "epochs": 50}, [])
    with pytest.raises(SystemExit, match="must share their setup"):
        claim_run_dir(other, {**SETUP, "epochs": 50}, [fresh])
    assert not other.exists()
