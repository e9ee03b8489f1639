"""The registry: a strategy registered later is listed for its tasks, and gone once removed."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from labelwise.strategies import available_strategies, get_strategy
from labelwise.strategies.base import (
    ScoringStrategy,
    register_strategy,
    strategy_tasks,
    unregister_strategy,
)


def _first_column(probabilities: np.ndarray) -> np.ndarray:
    return np.asarray(probabilities, dtype=np.float64)[:, 0]


def test_the_lists_follow_registration_and_removal() -> None:
    before = available_strategies("classification")
    assert available_strategies("classification") == before  # the same answer, asked twice
    assert set(before) <= set(available_strategies(task=None))

    class FirstColumn(ScoringStrategy):
        name: ClassVar[str] = "test_first_column"
        input_name = "proba"
        score_fn = staticmethod(_first_column)

    register_strategy(FirstColumn)
    try:
        assert "test_first_column" in available_strategies("classification")
        assert "test_first_column" in available_strategies(task=None)
        assert "classification" in strategy_tasks(FirstColumn)
        assert get_strategy("test_first_column").name == "test_first_column"
    finally:
        unregister_strategy("test_first_column")
    assert available_strategies("classification") == before
    listed = available_strategies("classification")
    listed.append("changed by a caller")
    assert available_strategies("classification") == before  # callers get their own list
