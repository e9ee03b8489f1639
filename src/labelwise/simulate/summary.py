"""From the rounds of a run to the numbers of its report, per strategy and over seeds.

For each strategy: the area under the learning curve, the labels needed to reach each target
fraction of full-data accuracy (mean, spread, seeds that reached it), and the ratio of those
label counts to random's with a paired bootstrap interval over seeds: ``ratio_to_random`` over
every seed (NaN when a seed never reached the target) and ``vs_random``, which always answers
(a bound where seeds never reached it, see :func:`~labelwise.simulate.curves.censored_ratio`).
``auto`` strategies also get ``choices``: how many batches each arm chose.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from labelwise.simulate.curves import (
    bootstrap_ratio,
    censored_ratio,
    curve_area,
    labels_to_target,
    mean_and_spread,
)

BASELINE = "random"
#: Bootstrap replicates, and the fixed seed that makes a report reproducible.
N_BOOT, BOOT_SEED = 2000, 12345


def _stats(per_seed: dict[int, float]) -> dict[str, Any]:
    mean, spread, n = mean_and_spread(list(per_seed.values()))
    return {"mean": mean, "std": spread, "n": n, "per_seed": per_seed}


def target_key(fraction: float) -> str:
    """``0.95 -> "95%"`` (also ``0.975 -> "97.5%"``)."""
    return f"{fraction * 100:g}%"


def summarize(
    rounds: pd.DataFrame,
    full_data_accuracy: dict[int, float],
    strategies: tuple[str, ...],
    targets: tuple[float, ...],
) -> dict[str, Any]:
    """Per-strategy statistics over seeds; see the module docstring.

    ``labels_to_target`` per seed compares that seed's curve with ``fraction`` times that seed's
    full-data accuracy; NaN (JSON null) when the curve never got there within the budget.
    """
    per_strategy: dict[str, dict[str, Any]] = {}
    labels: dict[str, dict[float, dict[int, float]]] = {}
    spent: dict[str, dict[int, float]] = {}
    for name in strategies:
        part = rounds[rounds["strategy"] == name] if not rounds.empty else rounds
        if part.empty:
            continue
        auc: dict[int, float] = {}
        final: dict[int, float] = {}
        reach: dict[float, dict[int, float]] = {t: {} for t in targets}
        spent[name] = {}
        for seed, curve in part.groupby("seed"):
            n = curve["n_labels"].to_numpy(np.float64)
            acc = curve["accuracy"].to_numpy(np.float64)
            auc[int(seed)] = curve_area(n, acc)
            final[int(seed)] = float(acc[np.argmax(n)])
            spent[name][int(seed)] = float(n.max())
            for t in targets:
                ceiling = full_data_accuracy.get(int(seed))
                reach[t][int(seed)] = (
                    labels_to_target(n, acc, t * ceiling) if ceiling is not None else float("nan")
                )
        labels[name] = reach
        per_strategy[name] = {
            "auc": _stats(auc),
            "final_accuracy": _stats(final),
            "final_n_labels": int(part["n_labels"].max()),
            "train_seconds": float(part["train_seconds"].sum()),
            "acquisition_seconds": float(part["acquisition_seconds"].sum()),
            "labels_to_target": {target_key(t): _stats(reach[t]) for t in targets},
        }
        choices = _choices(part)
        if choices:
            per_strategy[name]["choices"] = choices
    _add_ratios(per_strategy, labels, spent, targets)
    return {
        "full_data_accuracy": _stats(dict(full_data_accuracy)),
        "strategies": per_strategy,
    }


def _choices(part: pd.DataFrame) -> dict[str, int]:
    """Batches chosen by each of ``auto``'s arms (``choice`` values ``auto:<arm>``)."""
    if "choice" not in part.columns:
        return {}
    picked = part["choice"].dropna().astype(str)
    arms = picked[picked.str.contains(":")].str.split(":", n=1).str[1]
    return {str(arm): int(count) for arm, count in arms.value_counts().sort_index().items()}


def _add_ratios(
    per_strategy: dict[str, dict[str, Any]],
    labels: dict[str, dict[float, dict[int, float]]],
    spent: dict[str, dict[int, float]],
    targets: tuple[float, ...],
) -> None:
    if BASELINE not in per_strategy:
        return
    rng = np.random.default_rng(BOOT_SEED)
    base_auc = per_strategy[BASELINE]["auc"]["per_seed"]
    for name, stats in per_strategy.items():
        seeds = sorted(set(stats["auc"]["per_seed"]) & set(base_auc))
        diffs = [stats["auc"]["per_seed"][s] - base_auc[s] for s in seeds]
        stats["auc_minus_random"] = _stats(dict(zip(seeds, diffs, strict=True)))
        for t in targets:
            mine, base = labels[name][t], labels[BASELINE][t]
            paired = sorted(set(mine) & set(base))
            ratio, low, high = (
                bootstrap_ratio([mine[s] for s in paired], [base[s] for s in paired], rng, N_BOOT)
                if paired
                else (float("nan"),) * 3
            )
            stats["labels_to_target"][target_key(t)]["ratio_to_random"] = {
                "ratio": ratio,
                "low": low,
                "high": high,
            }
            stats["labels_to_target"][target_key(t)]["vs_random"] = censored_ratio(
                [mine[s] for s in paired],
                [base[s] for s in paired],
                [spent[name][s] for s in paired],
                [spent[BASELINE][s] for s in paired],
                rng,
                N_BOOT,
            )
