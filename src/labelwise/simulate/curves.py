"""The maths of the report: labels to reach a target, area under the learning curve, and the
ratio of two strategies' label counts with a bootstrap interval over seeds."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray


def labels_to_target(n_labels: ArrayLike, accuracy: ArrayLike, target: float) -> float:
    """The smallest label count whose accuracy reaches ``target``; NaN if the curve never does.

    ``n_labels`` and ``accuracy`` describe one learning curve (one strategy, one seed), in any
    order; the first point, in increasing label count, with ``accuracy >= target`` wins.

    >>> labels_to_target([20, 30, 40], [0.5, 0.8, 0.9], 0.75)
    30.0
    """
    n = np.asarray(n_labels, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    order = np.argsort(n, kind="stable")
    reached = np.flatnonzero(acc[order] >= target)
    return float(n[order][reached[0]]) if reached.size else float("nan")


def curve_area(n_labels: ArrayLike, accuracy: ArrayLike) -> float:
    """Normalised area under the learning curve: trapezoid area over ``[n_min, n_max]`` divided
    by ``n_max - n_min``, i.e. the mean accuracy along the label axis (in [0, 1]).

    >>> curve_area([0, 10, 20], [0.0, 1.0, 1.0])
    0.75
    """
    n = np.asarray(n_labels, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    order = np.argsort(n, kind="stable")
    n, acc = n[order], acc[order]
    if n.size < 2 or n[-1] == n[0]:
        return float(acc.mean()) if acc.size else float("nan")
    widths = np.diff(n)
    return float(np.sum(widths * (acc[1:] + acc[:-1]) / 2) / (n[-1] - n[0]))


def ratio_of_means(values: ArrayLike, baseline: ArrayLike) -> float:
    """``mean(values) / mean(baseline)``; NaN when either holds a NaN (a target not reached)."""
    v = np.asarray(values, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if np.isnan(v).any() or np.isnan(b).any() or b.mean() == 0:
        return float("nan")
    return float(v.mean() / b.mean())


def bootstrap_ratio(
    values: ArrayLike,
    baseline: ArrayLike,
    rng: np.random.Generator,
    n_boot: int = 2000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Ratio of mean label counts with a paired percentile bootstrap interval over seeds.

    ``values[i]`` and ``baseline[i]`` come from the same seed (same split, same initial set);
    each bootstrap replicate draws seeds with replacement and keeps the pairs together (Efron &
    Tibshirani, 1993, ch. 13). Returns ``(ratio, low, high)``; all NaN when a seed never reached
    the target.
    """
    v = np.asarray(values, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if v.shape != b.shape or v.ndim != 1:
        raise ValueError(f"paired values need equal 1-D shapes, got {v.shape} and {b.shape}")
    point = ratio_of_means(v, b)
    if np.isnan(point):
        return point, float("nan"), float("nan")
    draws = rng.integers(0, v.size, size=(n_boot, v.size))
    ratios = v[draws].mean(axis=1) / b[draws].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return point, float(low), float(high)


def mean_and_spread(values: ArrayLike) -> tuple[float, float, int]:
    """Mean and sample standard deviation over the finite values, and how many were finite."""
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return float("nan"), float("nan"), 0
    spread = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    return float(finite.mean()), spread, int(finite.size)


def mean_curve(
    n_labels: NDArray[np.floating], accuracy: NDArray[np.floating]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Mean and standard deviation of accuracy at each label count (over seeds)."""
    grid = np.unique(n_labels)
    means = np.array([accuracy[n_labels == n].mean() for n in grid])
    stds = np.array(
        [accuracy[n_labels == n].std(ddof=1) if (n_labels == n).sum() > 1 else 0.0 for n in grid]
    )
    return grid.astype(np.float64), means, stds


#: How a ratio to random was answered: over every seed, as a bound from seeds that never
#: reached the target (counted as the budget), over the seeds where both reached, or not at all.
RatioKind = Literal["exact", "upper", "lower", "subset", "none"]


def censored_ratio(
    values: ArrayLike,
    baseline: ArrayLike,
    budgets: ArrayLike,
    baseline_budgets: ArrayLike,
    rng: np.random.Generator,
    n_boot: int = 2000,
) -> dict[str, Any]:
    """Ratio of mean labels to a target that always answers, seeds paired.

    A seed whose curve never reached the target (NaN) needed more labels than its curve spent
    (``budgets``): counting it as the budget makes its mean too small. So:

    * no NaN on either side: the ratio of means with a paired bootstrap interval (``exact``);
    * NaN only in ``baseline``: the ratio with the budget counted is an upper bound (``upper``:
      the truth is at most it);
    * NaN only in ``values``: a lower bound (``lower``);
    * NaN on both sides: the ratio over the seeds where both reached (``subset``, with their
      number), or ``none`` when there is no such seed.

    Returns ``{"kind", "ratio", "low", "high", "n_seeds", "n_total", "missed", "missed_baseline"}``
    (``n_seeds``: seeds the figure is computed over; ``missed``: seeds that never reached).

    >>> censored_ratio([50, 60], [100, float("nan")], [200, 200], [200, 200],
    ...                np.random.default_rng(0))["kind"]
    'upper'
    """
    v = np.asarray(values, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    miss_v, miss_b = np.isnan(v), np.isnan(b)
    v_filled = np.where(miss_v, np.asarray(budgets, dtype=np.float64), v)
    b_filled = np.where(miss_b, np.asarray(baseline_budgets, dtype=np.float64), b)
    kind: RatioKind
    both = ~miss_v & ~miss_b
    if v.size == 0:
        kind, use = "none", both
    elif not miss_v.any() and not miss_b.any():
        kind, use = "exact", both
    elif miss_b.any() and not miss_v.any():
        kind, use = "upper", np.ones_like(both)
    elif miss_v.any() and not miss_b.any():
        kind, use = "lower", np.ones_like(both)
    else:
        kind, use = ("subset" if both.any() else "none"), both
    if use.any():
        ratio, low, high = bootstrap_ratio(v_filled[use], b_filled[use], rng, n_boot)
    else:
        ratio = low = high = float("nan")
    return {
        "kind": kind,
        "ratio": ratio,
        "low": low,
        "high": high,
        "n_seeds": int(use.sum()),
        "n_total": int(v.size),
        "missed": int(miss_v.sum()),
        "missed_baseline": int(miss_b.sum()),
    }
