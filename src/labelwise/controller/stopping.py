"""Stopping criteria of the loop, as pure functions of what the rounds measured.

* budget: the annotations spent reach the project's budget;
* target accuracy: accuracy on the eval split reaches a target;
* stabilising predictions (Bloodgood & Vijay-Shanker 2009): the model's predictions on a fixed
  stop set of unlabeled samples barely change between rounds. With ``kappa_t`` Cohen's kappa
  between the predictions of rounds ``t - 1`` and ``t``, stop when
  ``mean(kappa_{t-w+1} .. kappa_t) >= threshold`` (the paper: ``w = 3``, threshold 0.99);
* max uncertainty (Zhu et al. 2008): the largest least-confidence score ``1 - max_c p(c | x)``
  left in the pool falls below a threshold.

References
----------
Bloodgood, M., & Vijay-Shanker, K. (2009). A method for stopping active learning based on
stabilizing predictions and the need for user-adjustable stopping. CoNLL 2009, 39-47.
Zhu, J., Wang, H., & Hovy, E. (2008). Multi-criteria-based strategy to stop active learning for
data annotation. COLING 2008, 1129-1136.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from labelwise.quality import cohen_kappa

__all__ = ["StopDecision", "decide_stop", "prediction_kappa", "stabilizing_predictions"]


@dataclass(frozen=True)
class StopDecision:
    """Whether the loop should stop, and why (None while it goes on)."""

    stop: bool
    reason: str | None = None


def prediction_kappa(previous: Sequence[int], current: Sequence[int]) -> float:
    """Cohen's kappa between two rounds' predictions on the same stop set.

    Two identical prediction vectors give 1 (also when they hold a single class, where
    Cohen's formula is 0/0: the predictions did not change at all).
    """
    a, b = list(previous), list(current)
    if a == b:
        return 1.0
    value = cohen_kappa(a, b)
    return 0.0 if math.isnan(value) else float(value)


def stabilizing_predictions(kappas: Sequence[float], threshold: float, window: int = 3) -> bool:
    """True when the mean of the last ``window`` between-round kappas reaches ``threshold``."""
    if len(kappas) < window:
        return False
    recent = kappas[-window:]
    return sum(recent) / window >= threshold


def decide_stop(
    *,
    budget: int | None,
    budget_used: int,
    eval_accuracy: float | None,
    target_accuracy: float | None,
    kappas: Sequence[float],
    stop_kappa: float | None,
    stop_window: int,
    max_uncertainty: float | None,
    uncertainty_threshold: float | None,
) -> StopDecision:
    """Apply every criterion in turn; the first that holds names the reason."""
    if budget is not None and budget_used >= budget:
        return StopDecision(True, f"budget spent ({budget_used} of {budget} annotations)")
    reached = eval_accuracy is not None and target_accuracy is not None
    if reached and eval_accuracy >= target_accuracy:  # type: ignore[operator]
        return StopDecision(
            True, f"eval accuracy {eval_accuracy:.3f} reached the target {target_accuracy}"
        )
    if stop_kappa is not None and stabilizing_predictions(kappas, stop_kappa, stop_window):
        return StopDecision(
            True,
            f"predictions stabilised: mean kappa of the last {stop_window} rounds >= {stop_kappa}",
        )
    measured = uncertainty_threshold is not None and max_uncertainty is not None
    if measured and max_uncertainty < uncertainty_threshold:  # type: ignore[operator]
        return StopDecision(
            True, f"max uncertainty {max_uncertainty:.3f} fell below {uncertainty_threshold}"
        )
    return StopDecision(False)
