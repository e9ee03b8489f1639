from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from labelwise.errors import InvalidInputError
from labelwise.stream import StreamSimulationConfig, simulate_stream, write_stream_results


def test_small_simulation_keeps_the_budget_and_writes_its_files(tmp_path: Path) -> None:
    config = StreamSimulationConfig(
        dataset="iris", budget=0.2, window=20, seeds=1, max_items=100, eval_every=2
    )
    result = simulate_stream(config)
    curves = result.curves
    assert set(curves["method"]) == {"uncertainty", "random"}
    for (_, _), part in curves.groupby(["method", "seed"]):
        asked = json.loads(part["asked_positions"].iloc[-1])
        cap = math.floor(0.2 * 20)
        for start in range(100):
            assert sum(start <= p < start + 20 for p in asked) <= cap
        assert part["labels"].max() == len(asked) <= 0.2 * 100
    paths = write_stream_results(result, tmp_path / "out")
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads(paths["summary"].read_text())
    assert {"uncertainty", "random", "config"} <= set(summary)


def test_bad_configs_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="rule"):
        StreamSimulationConfig(rule="greedy")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="no item could ever be labeled"):
        StreamSimulationConfig(budget=0.001, window=10)


@pytest.mark.slow
def test_variable_uncertainty_beats_random_on_digits_at_equal_labels() -> None:
    result = simulate_stream(StreamSimulationConfig(dataset="digits", seeds=5, kind="margin"))
    summary = result.summary
    assert (
        summary["uncertainty"]["equal_labels_accuracy_mean"]
        > summary["random"]["equal_labels_accuracy_mean"] + 0.01
    )
