"""Reports that always answer: ratios as figures or bounds (never a silent "n/a"), spreads
that say how many seeds they rest on, a verdict first, every column defined."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.datasets import load_dataset
from labelwise.simulate import SimulationConfig, run_simulation
from labelwise.simulate.curves import censored_ratio
from labelwise.simulate.report import render_report, summary_of, verdict


def _censor(values: np.ndarray, budget: float) -> np.ndarray:
    return np.where(values > budget, np.nan, values)


@pytest.mark.parametrize("seed", range(30))
def test_censored_ratio_bounds_hold_for_the_hidden_truth(seed: int) -> None:
    """Random true label counts, some beyond the budget: each bound contains the true ratio."""
    rng = np.random.default_rng(seed)
    n, budget = int(rng.integers(2, 7)), 200.0
    mine = rng.uniform(50, 260, n)
    base = rng.uniform(80, 320, n)
    r = censored_ratio(
        _censor(mine, budget), _censor(base, budget), [budget] * n, [budget] * n, rng, 200
    )
    truth = mine.mean() / base.mean()
    if r["kind"] == "exact":
        assert r["ratio"] == pytest.approx(truth)
    elif r["kind"] == "upper":
        assert truth <= r["ratio"] + 1e-12
    elif r["kind"] == "lower":
        assert truth >= r["ratio"] - 1e-12
    else:
        both = (mine <= budget) & (base <= budget)
        assert r["n_seeds"] == both.sum()
        if both.any():
            assert r["ratio"] == pytest.approx(mine[both].mean() / base[both].mean())
    assert r["missed"] == int((mine > budget).sum())
    assert r["missed_baseline"] == int((base > budget).sum())


def test_censored_ratio_kinds_by_hand() -> None:
    rng = np.random.default_rng(0)
    nan = float("nan")
    b = [200.0, 200.0]
    assert censored_ratio([50, 70], [100, 140], b, b, rng)["kind"] == "exact"
    upper = censored_ratio([50, 70], [100, nan], b, b, rng)
    assert upper["kind"] == "upper" and upper["ratio"] == pytest.approx(120 / 300)
    lower = censored_ratio([nan, 70], [100, 140], b, b, rng)
    assert lower["kind"] == "lower" and lower["ratio"] == pytest.approx(270 / 240)
    assert censored_ratio([nan, 70], [nan, 140], b, b, rng)["kind"] == "subset"
    assert censored_ratio([nan, 70], [100, nan], b, b, rng)["kind"] == "none"
    assert censored_ratio([], [], [], [], rng)["kind"] == "none"


@pytest.fixture(scope="module")
def one_seed_report() -> str:
    config = SimulationConfig(
        dataset="wine",
        strategies=("margin", "auto"),
        seeds=1,
        initial=10,
        batch_size=10,
        budget=40,
        test_size=0.3,
    )
    return render_report(summary_of(run_simulation(config, dataset=load_dataset("wine"))))


def test_a_report_never_says_n_a_nor_plus_minus_zero_for_one_seed(one_seed_report: str) -> None:
    assert "n/a" not in one_seed_report
    assert "± 0" not in one_seed_report
    assert "(1 seed)" in one_seed_report


def test_a_report_opens_with_a_verdict_and_defines_its_columns(one_seed_report: str) -> None:
    lines = one_seed_report.splitlines()
    assert lines[2].startswith("**Verdict:**")
    assert "**AUC**: area under the test-accuracy-versus-labels curve" in one_seed_report
    for column in ("final accuracy", "labels to X%", "ratio to random"):
        assert f"**{column}**" in one_seed_report
    assert "auto's choices" in one_seed_report


TARGETS = {0.95: "95%", 0.98: "98%", 0.99: "99%"}


def _summary(per_seed_labels: dict[str, list[float | None]], budget: int = 200) -> dict:
    """A summary.json-shaped dict from labels to the 95% target per strategy and seed."""
    from labelwise.simulate.summary import _add_ratios

    per: dict = {}
    labels: dict = {}
    spent: dict = {}
    for name, values in per_seed_labels.items():
        seeds = dict(enumerate(float("nan") if v is None else v for v in values))
        finite = [v for v in seeds.values() if v == v]
        per[name] = {
            "auc": {"mean": 0.9, "std": 0.01, "n": len(values), "per_seed": {}},
            "final_accuracy": {"mean": 0.95, "std": 0.01, "n": len(values), "per_seed": {}},
            "labels_to_target": {
                key: {
                    "mean": float(np.mean(finite)) if finite else float("nan"),
                    "std": float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0,
                    "n": len(finite),
                    "per_seed": seeds,
                }
                for key in TARGETS.values()
            },
        }
        labels[name] = dict.fromkeys(TARGETS, seeds)
        spent[name] = dict.fromkeys(seeds, float(budget))
    _add_ratios(per, labels, spent, tuple(TARGETS))
    for name in per:
        per[name]["auc"]["per_seed"] = dict.fromkeys(range(len(per_seed_labels[name])), 0.9)
    return {
        "complete": True,
        "config": {
            "dataset": "d",
            "model": "m",
            "strategies": list(per),
            "seeds": list(range(len(next(iter(per_seed_labels.values()))))),
            "initial": 20,
            "initial_strategy": "random",
            "batch_size": 10,
            "budget": budget,
            "target": 0.95,
        },
        "full_data_accuracy": {"mean": 0.97, "std": 0.01, "n": 3, "per_seed": {}},
        "strategies": per,
    }


def test_the_verdict_gives_a_bound_where_random_missed() -> None:
    summary = _summary({"random": [180, None, None], "margin": [90, 100, 110]})
    line = verdict(summary)
    assert "margin needed the fewest labels" in line
    assert "≤ 0.52x (random missed 2/3 seeds)" in line  # 100 / ((180 + 200 + 200) / 3)


def test_the_verdict_answers_when_nothing_reached_the_target() -> None:
    summary = _summary({"random": [None, None], "margin": [None, None]})
    assert "no strategy reached 95% of full-data accuracy within 200 labels" in verdict(summary)
    report = render_report(summary)
    assert "n/a" not in report and "neither reached it" in report
