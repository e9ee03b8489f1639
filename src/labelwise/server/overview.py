"""The lead's overview, from the rounds' metrics: accuracy trend, stopping criteria, a sentence.

Pure functions of what the rounds recorded (``eval_accuracy``, ``n_labeled``, ``kappas``,
``stop_predictions``, ``max_uncertainty``) and the loop's settings; the admin route reads the
store and hands them in. Each stopping criterion is shown with its current value against its
threshold, and one plain sentence says what stopping now would cost, estimated from the
learning curve's recent slope: ``gain ~= slope * labels``, with ``slope`` the change in eval
accuracy per label over the last ``TREND_ROUNDS`` rounds that measured it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TREND_ROUNDS", "AccuracyTrend", "Criterion", "accuracy_trend", "criteria", "guidance"]

#: Rounds over which the accuracy trend (and so the cost of stopping) is measured.
TREND_ROUNDS = 3
#: Labels the cost of stopping is quoted for when the budget is unlimited.
DEFAULT_HORIZON = 100


@dataclass(frozen=True)
class AccuracyTrend:
    """The last eval accuracy and its change per label over the recent rounds (None: unknown)."""

    accuracy: float | None
    change: float | None  # points of accuracy (0..1) gained over the window
    labels: int  # labels added over the window
    per_label: float | None  # change / labels


@dataclass(frozen=True)
class Criterion:
    """One stopping criterion: its current value against its threshold, in words."""

    name: str
    current: float | None
    threshold: float | None
    met: bool
    text: str


def accuracy_trend(
    rounds: Sequence[Mapping[str, Any]], window: int = TREND_ROUNDS
) -> AccuracyTrend:
    """Eval accuracy of the last round that measured it, and its slope over ``window`` rounds."""
    measured = [
        (int(m.get("n_labeled") or 0), float(m["eval_accuracy"]))
        for m in rounds
        if m.get("eval_accuracy") is not None
    ]
    if not measured:
        return AccuracyTrend(None, None, 0, None)
    recent = measured[-window:]
    (n0, a0), (n1, a1) = recent[0], recent[-1]
    if len(recent) < 2 or n1 <= n0:
        return AccuracyTrend(a1, None, 0, None)
    return AccuracyTrend(a1, a1 - a0, n1 - n0, (a1 - a0) / (n1 - n0))


def changed_share(previous: Sequence[int] | None, current: Sequence[int] | None) -> float | None:
    """Share of the stop set whose predicted class changed between two rounds."""
    if not previous or not current or len(previous) != len(current):
        return None
    return sum(a != b for a, b in zip(previous, current, strict=True)) / len(current)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def criteria(
    rounds: Sequence[Mapping[str, Any]],
    settings: Any,
    budget: int | None,
    budget_used: int,
) -> list[Criterion]:
    """Every stopping criterion of the loop with its current value and threshold.

    Parameters
    ----------
    rounds : sequence of mappings
        The rounds' metrics, oldest first.
    settings : LoopSettings
        ``target_accuracy``, ``stop_kappa``, ``stop_window``, ``max_uncertainty``.
    budget, budget_used : the project's budget (None: unlimited) and the annotations spent.
    """
    last = rounds[-1] if rounds else {}
    found = [
        Criterion(
            "budget",
            float(budget_used),
            None if budget is None else float(budget),
            budget is not None and budget_used >= budget,
            f"{budget_used} annotations spent"
            + (" (no budget set)" if budget is None else f" of a budget of {budget}"),
        )
    ]
    accuracy = last.get("eval_accuracy")
    target = settings.target_accuracy
    if accuracy is None:
        text = "eval accuracy: not measured yet (no model, or no labeled eval split)"
    else:
        text = f"eval accuracy {_pct(accuracy)}" + (
            " (no target set)" if target is None else f" against a target of {_pct(target)}"
        )
    reached = accuracy is not None and target is not None and accuracy >= target
    found.append(Criterion("target accuracy", accuracy, target, reached, text))
    kappas = [float(k) for k in last.get("kappas") or []]
    window = int(settings.stop_window)
    mean = sum(kappas[-window:]) / window if len(kappas) >= window else None
    previous = rounds[-2].get("stop_predictions") if len(rounds) >= 2 else None
    share = changed_share(previous, last.get("stop_predictions"))
    text = (
        f"mean kappa of the last {window} rounds: "
        + ("not enough rounds yet" if mean is None else f"{mean:.3f}")
        + ("" if settings.stop_kappa is None else f" (stop at {settings.stop_kappa})")
        + ("" if share is None else f"; predictions changed on {_pct(share)} of the stop set")
    )
    stable = mean is not None and settings.stop_kappa is not None and mean >= settings.stop_kappa
    found.append(Criterion("stabilising predictions", mean, settings.stop_kappa, stable, text))
    uncertainty = last.get("max_uncertainty")
    limit = settings.max_uncertainty
    text = (
        "max uncertainty left in the pool: "
        + ("not measured yet" if uncertainty is None else f"{uncertainty:.3f}")
        + (" (no threshold set)" if limit is None else f" (stop below {limit})")
    )
    low = uncertainty is not None and limit is not None and uncertainty < limit
    found.append(Criterion("max uncertainty", uncertainty, limit, low, text))
    return found


def guidance(
    trend: AccuracyTrend,
    found: Sequence[Criterion],
    budget: int | None,
    budget_used: int,
    stop_reason: str | None,
) -> str:
    """One plain sentence: keep labeling or stop, and what stopping now would cost."""
    if stop_reason:
        return f"The loop has stopped: {stop_reason}."
    met = [c.name for c in found if c.met]
    if trend.accuracy is None:
        return "No model has been measured on the eval split yet: keep labeling."
    if trend.per_label is None:
        head = f"Eval accuracy is {_pct(trend.accuracy)}; one more round will show its trend."
        return head if not met else head + f" Met: {', '.join(met)}."
    horizon = DEFAULT_HORIZON if budget is None else max(0, budget - budget_used)
    gain = min(max(0.0, trend.per_label) * horizon, 1.0 - trend.accuracy)
    change = trend.change or 0.0
    sentence = (
        f"Eval accuracy is {_pct(trend.accuracy)}, {'up' if change >= 0 else 'down'}"
        f" {abs(100 * change):.1f} points over the last {trend.labels} labels; "
    )
    what = "the rest of the budget" if budget is not None else f"the next {horizon} labels"
    if gain < 0.005:
        sentence += f"at that rate {what} would add little: stopping now costs under 0.5 points."
    else:
        sentence += (
            f"at that rate {what} ({horizon} labels) would add about {100 * gain:.1f} points:"
            f" stopping now would cost about that much."
        )
    return sentence if not met else sentence + f" Met: {', '.join(met)}."
