"""The Kirsch et al. 2019 table says where a run departs from the paper and never reports a
level a curve did not reach as reached."""

from __future__ import annotations

import pandas as pd

from benchmarks import kirsch2019
from labelwise.simulate import SimulationConfig


def _config(**changes: object) -> SimulationConfig:
    values: dict[str, object] = dict(
        dataset="mnist",
        model="kirsch_cnn",
        strategies=("batchbald", "bald"),
        seeds=2,
        initial=20,
        initial_strategy="balanced",
        batch_size=10,
        budget=250,
        full_data=False,
        baseline=False,
    )
    return SimulationConfig(**{**values, **changes})  # type: ignore[arg-type]


def _rounds() -> pd.DataFrame:
    rows = [
        ("batchbald", 0, 20, 0.6), ("batchbald", 0, 90, 0.91), ("batchbald", 0, 200, 0.95),
        ("batchbald", 1, 20, 0.6), ("batchbald", 1, 110, 0.93),  # seed 1 stopped at 110
        ("bald", 0, 20, 0.6), ("bald", 0, 60, 0.8),
        ("bald", 1, 20, 0.6), ("bald", 1, 70, 0.85),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["strategy", "seed", "n_labels", "accuracy"])


def test_reductions_and_an_interrupted_run_are_said_plainly() -> None:
    text = kirsch2019.table(_rounds(), _config(candidates=500, n_mc_samples=50), 60.0, False)
    assert "500 pool items" in text and "50 MC Dropout samples, not 100" in text
    assert "2 trial(s), not 6" in text and "interrupted" in text
    full = _config(seeds=6, n_mc_samples=100)
    assert "reduced" not in kirsch2019.table(_rounds(), full, 60.0)


def test_levels_not_reached_are_bounds_and_never_compared_with_the_paper() -> None:
    lines = kirsch2019.table(_rounds(), _config(), 60.0).splitlines()
    row = {tuple(c.strip() for c in line.split("|")[1:3]): line for line in lines if "|" in line}
    assert "| 100 | 90, 110 | 90 | +11% |" in row[("batchbald", "90%")]
    assert "lower bound" in row[("batchbald", "95%")]  # seed 1 ended at 110, below 95%
    assert "not comparable" in row[("batchbald", "95%")]
    assert "| > 60 | > 60, > 70 |" in row[("bald", "90%")]
