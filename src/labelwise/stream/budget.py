"""Budgets in time, and the random rule that a stream rule is measured against.

The stream rules of :mod:`labelwise.strategies.stream` keep a budget per window of *items*.
A labeling team has a budget per window of *time* too (say 50 labels an hour):
:class:`TimeWindowBudget` keeps at most ``max_labels`` labels in any ``seconds``-long sliding
window, exactly. An item that arrives while the time budget is spent is skipped before the
rule sees it, so the rule's own budget counts only the items it was offered.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.strategies.stream import BudgetedStream
from labelwise.validation import check_rng


class TimeWindowBudget:
    """At most ``max_labels`` labels in any window of ``seconds`` (sliding, exact).

    Parameters
    ----------
    max_labels : labels allowed per window, >= 1.
    seconds : length of the window, > 0.
    clock : the time source (seconds); injectable for tests.
    """

    def __init__(
        self, max_labels: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(max_labels, bool) or not isinstance(max_labels, int) or max_labels < 1:
            raise InvalidInputError(f"max_labels must be a positive int, got {max_labels!r}")
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
            raise InvalidInputError(f"seconds must be a positive number, got {seconds!r}")
        self.max_labels = max_labels
        self.seconds = float(seconds)
        self.clock = clock
        self._times: deque[float] = deque()

    def allows(self) -> bool:
        """Whether one more label now keeps every window within ``max_labels``."""
        now = self.clock()
        while self._times and self._times[0] <= now - self.seconds:
            self._times.popleft()
        return len(self._times) < self.max_labels

    def record(self) -> None:
        """Count a label given now."""
        self._times.append(self.clock())

    def __repr__(self) -> str:
        return f"TimeWindowBudget(max_labels={self.max_labels}, seconds={self.seconds})"


class RandomLabeling(BudgetedStream):
    """The baseline: label each item the budget allows with probability ``budget``,
    whatever the model thinks (one ``rng.random`` draw per such item)."""

    def __init__(
        self,
        budget: float,
        window: int | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        if budget is None:
            raise InvalidInputError("RandomLabeling needs a budget")
        super().__init__(budget, window)
        self._rng = check_rng(rng)

    def _rule(self, score: float) -> bool:
        assert self.budget is not None
        return bool(self._rng.random() < self.budget)
