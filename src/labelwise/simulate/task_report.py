"""The report of a regression or multi-label simulation: summary, table, learning-curve plot.

Per strategy, over seeds: the normalised area under the curve of the task's metric (R2 or
micro-F1), its final value, the labels needed to reach each target fraction of the full-data
metric, and the ratio of those labels to random's with a paired bootstrap interval
(:func:`~labelwise.simulate.curves.censored_ratio`: a bound where seeds never reached it).
Written as ``rounds.csv``, ``summary.json``, ``report.md`` and ``curves.png``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from labelwise.simulate.curves import (
    censored_ratio,
    curve_area,
    labels_to_target,
    mean_and_spread,
    mean_curve,
)
from labelwise.simulate.report import json_safe
from labelwise.simulate.task_run import TaskResult, primary_metric

__all__ = ["plot_task_curves", "report_markdown", "summarize_task", "write_task_results"]

BASELINE = "random"
BOOT_SEED = 12345


def _stats(per_seed: dict[int, float]) -> dict[str, Any]:
    mean, spread, n = mean_and_spread(list(per_seed.values()))
    return {"mean": mean, "std": spread, "n": n, "per_seed": per_seed}


def summarize_task(result: TaskResult) -> dict[str, Any]:
    """Per-strategy statistics over seeds (see the module docstring)."""
    metric = primary_metric(result.config.task)
    targets = result.config.targets
    per: dict[str, dict[str, Any]] = {}
    reach: dict[str, dict[float, dict[int, float]]] = {}
    spent: dict[str, dict[int, float]] = {}
    for name, part in result.rounds.groupby("strategy", sort=False):
        auc: dict[int, float] = {}
        final: dict[int, float] = {}
        reach[str(name)] = {t: {} for t in targets}
        spent[str(name)] = {}
        for seed, curve in part.groupby("seed"):
            n = curve["n_labels"].to_numpy(np.float64)
            value = curve[metric].to_numpy(np.float64)
            auc[int(seed)] = curve_area(n, value)
            final[int(seed)] = float(value[np.argmax(n)])
            spent[str(name)][int(seed)] = float(n.max())
            for t in targets:
                ceiling = result.full_data[int(seed)]
                reach[str(name)][t][int(seed)] = labels_to_target(n, value, t * ceiling)
        per[str(name)] = {
            "auc": _stats(auc),
            f"final_{metric}": _stats(final),
            "labels_to_target": {f"{t:.0%}": _stats(reach[str(name)][t]) for t in targets},
        }
    if BASELINE in per:
        for name in per:
            if name == BASELINE:
                continue
            per[name]["vs_random"] = {}
            for t in targets:
                seeds = sorted(reach[name][t])
                per[name]["vs_random"][f"{t:.0%}"] = censored_ratio(
                    [reach[name][t][s] for s in seeds],
                    [reach[BASELINE][t][s] for s in seeds],
                    [spent[name][s] for s in seeds],
                    [spent[BASELINE][s] for s in seeds],
                    np.random.default_rng(BOOT_SEED),
                )
    return {
        "task": result.config.task,
        "dataset": result.data.name,
        "source": result.data.source,
        "metric": metric,
        "model": result.config.model_name,
        f"full_data_{metric}": _stats(dict(result.full_data)),
        "strategies": per,
    }


def plot_task_curves(result: TaskResult, path: str | Path) -> Path:
    """A PNG of the task's metric against labels: mean over seeds, a one-std band, random
    black and dashed, the full-data metric and its target fractions as grey lines."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    metric = primary_metric(result.config.task)
    fig, ax = plt.subplots(figsize=(7.0, 4.6), dpi=150)
    palette = plt.get_cmap("tab10")
    colour_index = 0
    for name, part in result.rounds.groupby("strategy", sort=False):
        grid, mean, std = mean_curve(
            part["n_labels"].to_numpy(np.float64), part[metric].to_numpy(np.float64)
        )
        label = f"{name} (n={part['seed'].nunique()})"
        if name == BASELINE:
            colour: Any = "black"
            ax.plot(grid, mean, "--", color=colour, lw=1.6, zorder=3, label=label)
        else:
            colour = palette(colour_index % 10)
            colour_index += 1
            ax.plot(grid, mean, color=colour, lw=1.6, label=label)
        ax.fill_between(grid, mean - std, mean + std, color=colour, alpha=0.15, lw=0)
    ceiling = float(np.mean(list(result.full_data.values())))
    ax.axhline(ceiling, color="grey", lw=1.0, label="full data")
    for t in result.config.targets:
        ax.axhline(t * ceiling, color="grey", lw=0.7, ls=":")
    ax.set_xlabel("labeled examples")
    ax.set_ylabel(f"test {metric}")
    ax.set_title(f"{result.data.name} ({result.config.task}, {result.config.model_name})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def report_markdown(summary: dict[str, Any]) -> str:
    """The summary as a Markdown report: one table row per strategy."""
    metric = summary["metric"]
    full = summary[f"full_data_{metric}"]
    targets = list(next(iter(summary["strategies"].values()))["labels_to_target"])
    head = ["strategy", "AUC", f"final {metric}"]
    head += [f"labels to {t}" for t in targets] + [f"vs random ({t})" for t in targets]
    lines = [
        f"# {summary['dataset']}: {summary['task']} active learning",
        "",
        f"Data: {summary['source']}. Model: {summary['model']}. Full-data {metric}: "
        f"{_fmt(full['mean'])} ± {_fmt(full['std'])} over {full['n']} seeds.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for name, s in summary["strategies"].items():
        cells = [name, _fmt(s["auc"]["mean"]), _fmt(s[f"final_{metric}"]["mean"])]
        for t in targets:
            got = s["labels_to_target"][t]
            cells.append(f"{_fmt(got['mean'], 0)} ({got['n']}/{len(got['per_seed'])} seeds)")
        for t in targets:
            ratio = s.get("vs_random", {}).get(t)
            cells.append(
                "-"
                if ratio is None
                else f"{_fmt(ratio['ratio'], 2)} [{_fmt(ratio['low'], 2)}, "
                f"{_fmt(ratio['high'], 2)}] {ratio['kind']}"
            )
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "AUC: mean test metric along the label axis. Labels to X%: labels at which the curve "
        "first reaches X% of the full-data metric (mean over the seeds that reached it). "
        "vs random: ratio of mean labels to random's, 95% paired bootstrap interval over seeds "
        "(below 1: fewer labels than random).",
    ]
    return "\n".join(lines) + "\n"


def write_task_results(result: TaskResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``rounds.csv``, ``summary.json``, ``report.md`` and ``curves.png`` to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize_task(result)
    paths = {
        "rounds": out / "rounds.csv",
        "summary": out / "summary.json",
        "report": out / "report.md",
        "plot": out / "curves.png",
    }
    result.rounds.to_csv(paths["rounds"], index=False)
    paths["summary"].write_text(json.dumps(json_safe(summary), indent=2, allow_nan=False) + "\n")
    paths["report"].write_text(report_markdown(summary))
    plot_task_curves(result, paths["plot"])
    return paths
