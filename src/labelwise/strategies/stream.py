"""Stream-based selection: one label-or-not decision per arriving item, under a label budget.

After Zliobaite, Bifet, Pfahringer & Holmes 2014, "Active Learning With Drifting Streaming Data"
(IEEE TNNLS 25(1)): fixed uncertainty, variable uncertainty and randomized variable
uncertainty. Each rule has ``decide(score) -> bool`` where ``score`` is an uncertainty (higher =
more informative, e.g. :func:`labelwise.strategies.least_confidence` of one item).

The budget is exact: with ``window=w`` at most ``floor(budget * w)`` labels in any ``w``
consecutive items, with ``window=None`` ``labels <= budget * seen`` after every item; an item
the budget refuses leaves the threshold unchanged. The paper's rule on the confidence, restated
on an uncertainty score: label when ``score >= threshold``, then ``threshold *= 1 + step``;
after an item not labeled while the budget allowed one, ``threshold *= 1 - step``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.validation import check_rng


class BudgetedStream(ABC):
    """A stateful stream rule: the budget bookkeeping shared by every rule.

    Parameters
    ----------
    budget : fraction of items that may be labeled, in (0, 1]; ``None``: no limit.
    window : length of the sliding window the budget applies to; ``None``: all items seen.
    """

    def __init__(self, budget: float | None = None, window: int | None = None) -> None:
        if budget is not None and not (
            isinstance(budget, int | float) and math.isfinite(budget) and 0 < budget <= 1
        ):
            raise InvalidInputError(f"budget must be a fraction in (0, 1], got {budget!r}")
        if window is not None:
            if isinstance(window, bool) or not isinstance(window, int) or window < 1:
                raise InvalidInputError(f"window must be a positive int, got {window!r}")
            if budget is None:
                raise InvalidInputError("a window needs a budget")
            if math.floor(budget * window) < 1:
                raise InvalidInputError(
                    f"budget * window = {budget * window:.3g} < 1: no item could ever be labeled; "
                    "widen the window or raise the budget"
                )
        self.budget = budget
        self.window = window
        self.n_seen = 0
        self.n_labeled = 0
        self._recent: deque[int] = deque()  # item numbers of labels inside the window

    def budget_allows(self) -> bool:
        """Whether labeling the item about to arrive keeps within the budget."""
        if self.budget is None:
            return True
        upcoming = self.n_seen + 1
        if self.window is None:
            return self.n_labeled + 1 <= self.budget * upcoming
        while self._recent and self._recent[0] <= upcoming - self.window:
            self._recent.popleft()
        return len(self._recent) + 1 <= math.floor(self.budget * self.window)

    def decide(self, score: float) -> bool:
        """Whether to ask for the label of the arriving item whose uncertainty is ``score``."""
        value = float(score)
        if not math.isfinite(value):
            raise InvalidInputError(f"score must be a finite number, got {score!r}")
        allowed = self.budget_allows()
        self.n_seen += 1
        label = allowed and self._rule(value)
        if label:
            self.n_labeled += 1
            if self.window is not None:
                self._recent.append(self.n_seen)
        return label

    def decide_many(self, scores: ArrayLike) -> NDArray[np.bool_]:
        """:meth:`decide` for each score in order; the decisions as a boolean array."""
        values = np.asarray(scores, dtype=np.float64).ravel()
        return np.fromiter((self.decide(v) for v in values), dtype=bool, count=values.size)

    def reset(self) -> None:
        """Forget the stream: counters, window and threshold back to their initial state."""
        self.n_seen = 0
        self.n_labeled = 0
        self._recent.clear()

    @abstractmethod
    def _rule(self, score: float) -> bool:
        """Decide for an item the budget allows to label, updating any threshold."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


def _positive_finite(value: float, name: str) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise InvalidInputError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


class FixedThreshold(BudgetedStream):
    """Fixed uncertainty (Zliobaite et al. 2014, Alg. 2): label when ``score >= threshold``."""

    def __init__(
        self, threshold: float, budget: float | None = None, window: int | None = None
    ) -> None:
        super().__init__(budget, window)
        value = float(threshold)
        if not math.isfinite(value):
            raise InvalidInputError(f"threshold must be finite, got {threshold!r}")
        self.threshold = value

    def _rule(self, score: float) -> bool:
        return score >= self.threshold


class VariableUncertainty(BudgetedStream):
    """Variable uncertainty (Zliobaite et al. 2014, Alg. 3): a threshold that adapts so that
    labels are spread over the stream at the budget's rate.

    When the budget allows a label: label if ``score >= threshold``, then
    ``threshold *= 1 + step``; otherwise ``threshold *= 1 - step``.

    Parameters
    ----------
    budget : fraction of items that may be labeled, in (0, 1].
    window : sliding window of the budget (None: every item seen so far).
    initial_threshold : starting threshold on the uncertainty score, > 0.
    step : adjusting step ``s`` of the paper, in (0, 1).
    """

    def __init__(
        self,
        budget: float,
        window: int | None = None,
        initial_threshold: float = 0.5,
        step: float = 0.01,
    ) -> None:
        if budget is None:
            raise InvalidInputError("VariableUncertainty needs a budget")
        super().__init__(budget, window)
        self.initial_threshold = _positive_finite(initial_threshold, "initial_threshold")
        self.step = _positive_finite(step, "step")
        if self.step >= 1:
            raise InvalidInputError(f"step must lie in (0, 1), got {step!r}")
        self.threshold = self.initial_threshold

    def _bar(self) -> float:
        return self.threshold

    def _rule(self, score: float) -> bool:
        if score >= self._bar():
            self.threshold *= 1.0 + self.step
            return True
        self.threshold *= 1.0 - self.step
        return False

    def reset(self) -> None:
        """Forget the stream and restore the initial threshold."""
        super().reset()
        self.threshold = self.initial_threshold


class RandomizedVariableUncertainty(VariableUncertainty):
    """Randomized variable uncertainty (Zliobaite et al. 2014, Alg. 4): the threshold is
    multiplied by ``eta ~ N(1, noise)`` for each decision, so that items far from the
    threshold are sometimes labeled too (useful under drift).

    One ``rng.normal`` draw per item the budget allows to label; :meth:`reset` rewinds the
    generator, so a reset stream repeats its decisions.
    """

    def __init__(
        self,
        budget: float,
        window: int | None = None,
        initial_threshold: float = 0.5,
        step: float = 0.01,
        noise: float = 1.0,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__(budget, window, initial_threshold, step)
        self.noise = _positive_finite(noise, "noise")
        given = check_rng(rng)
        self._rng = np.random.Generator(type(given.bit_generator)())
        self._rng.bit_generator.state = given.bit_generator.state
        self._rng_start = given.bit_generator.state

    def _bar(self) -> float:
        return self.threshold * float(self._rng.normal(1.0, self.noise))

    def reset(self) -> None:
        """Forget the stream, restore the threshold and rewind the random generator."""
        super().reset()
        self._rng.bit_generator.state = self._rng_start
