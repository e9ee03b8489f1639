"""Writing a run to disk: rounds.csv (and .parquet), summary.json, report.md, the figure."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypeGuard

from labelwise.simulate.plot import plot_learning_curves
from labelwise.simulate.runner import SimulationResult
from labelwise.simulate.summary import BASELINE, summarize, target_key

#: The leading columns of rounds.csv; per-class recall columns follow.
ROUND_COLUMNS = (
    "strategy",
    "seed",
    "round",
    "n_labels",
    "accuracy",
    "macro_f1",
    "ece",
    "train_seconds",
    "acquisition_seconds",
)


def summary_of(result: SimulationResult) -> dict[str, Any]:
    """The summary of a result, as written to ``summary.json``."""
    summary = summarize(
        result.rounds,
        result.full_data_accuracy,
        result.config.strategies,
        result.config.targets,
    )
    return {
        "complete": result.complete,
        "config": result.config.to_dict(),
        "dataset": result.dataset_info,
        **summary,
    }


def write_results(result: SimulationResult, out: str | Path) -> dict[str, Path]:
    """Write every output file into ``out`` (created if needed) and return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "rounds_csv": out / "rounds.csv",
        "summary": out / "summary.json",
        "report": out / "report.md",
    }
    rounds = result.rounds
    if not rounds.empty:
        ordered = [*ROUND_COLUMNS, *[c for c in rounds.columns if c not in ROUND_COLUMNS]]
        rounds = rounds[ordered]
    rounds.to_csv(paths["rounds_csv"], index=False)
    try:
        rounds.to_parquet(out / "rounds.parquet", index=False)
        paths["rounds_parquet"] = out / "rounds.parquet"
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    summary = summary_of(result)
    paths["summary"].write_text(json.dumps(_json_safe(summary), indent=2) + "\n")
    paths["report"].write_text(render_report(summary))
    if not rounds.empty:
        full = summary["full_data_accuracy"]["mean"]
        paths["plot"] = plot_learning_curves(
            rounds,
            out / "learning_curve.png",
            title=_title(summary),
            full_data_accuracy=full if full == full else None,
            targets=result.config.targets,
        )
    return paths


def _json_safe(value: Any) -> Any:
    """NaN becomes null, numpy scalars plain numbers, int keys strings."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _json_safe(value.item())
    return value


def _title(summary: dict[str, Any]) -> str:
    cfg = summary["config"]
    return (
        f"{cfg['dataset']}, {cfg['model']}: {cfg['initial']} {cfg['initial_strategy']} initial "
        f"labels, batch {cfg['batch_size']}, {len(cfg['seeds'])} seeds"
    )


def _measured(x: float | None) -> bool:
    """Whether a figure was measured: NaN in memory, ``null`` once read back from JSON."""
    return x is not None and x == x


def _num(x: float | None, digits: int = 3, sign: str = "") -> str:
    return f"{x:{sign}.{digits}f}" if _measured(x) else "n/a"


def _labels_cell(stats: dict[str, Any], n_seeds: int) -> str:
    if stats["n"] == 0:
        return "not reached"
    cell = f"{stats['mean']:.0f} ± {stats['std']:.0f}"
    return cell if stats["n"] == n_seeds else f"{cell} ({stats['n']}/{n_seeds} seeds)"


def _known(ratio: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """Whether a ratio to random was measured."""
    return ratio is not None and bool(ratio) and _measured(ratio["ratio"])


def _ratio_cell(stats: dict[str, Any]) -> str:
    r = stats.get("ratio_to_random")
    if not _known(r):
        return "n/a"
    return f"{r['ratio']:.2f}x [{r['low']:.2f}, {r['high']:.2f}]"


def render_report(summary: dict[str, Any]) -> str:
    """The Markdown report: set-up, a table per target, and one sentence per strategy."""
    cfg = summary["config"]
    n_seeds = len(cfg["seeds"])
    full = summary["full_data_accuracy"]
    targets = [target_key(t) for t in sorted({0.95, 0.98, 0.99, cfg["target"]})]
    lines = [
        f"# Active-learning simulation: {cfg['dataset']} with {cfg['model']}",
        "",
        f"- strategies: {', '.join(cfg['strategies'])}; seeds: {n_seeds} ({cfg['seeds'][0]}.."
        f"{cfg['seeds'][-1]})",
        f"- {cfg['initial']} {cfg['initial_strategy']} initial labels, {cfg['batch_size']} per "
        f"round, budget {cfg['budget']} labels (initial set included)",
        f"- full-data accuracy (the same model trained on the whole pool): "
        f"{_num(full['mean'])} ± {_num(full['std'])}",
        "- labels to a target: the first label count whose test accuracy reaches the target "
        "fraction of that seed's full-data accuracy; mean ± standard deviation over seeds",
        "- ratio to random: mean labels / random's mean labels, same seeds, with a 95% paired "
        "bootstrap interval over seeds",
    ]
    if cfg.get("stop_accuracy") is not None:
        lines.append(
            f"- each curve ends at its first round with test accuracy >= {cfg['stop_accuracy']}:"
            " curves end at different label counts, so their areas and final accuracies are "
            "not comparable"
        )
    if not summary["complete"]:
        lines += ["", "**The run was interrupted: these are partial results.**"]
    header = "| strategy | AUC | final accuracy | " + " | ".join(
        f"labels to {t} | ratio to random at {t}" for t in targets
    )
    lines += ["", "## Results", "", header + " |", "|" + " --- |" * (3 + 2 * len(targets))]
    for name, stats in summary["strategies"].items():
        cells = [
            name,
            f"{_num(stats['auc']['mean'])} ± {_num(stats['auc']['std'])}",
            f"{_num(stats['final_accuracy']['mean'])} ± {_num(stats['final_accuracy']['std'])}",
        ]
        for t in targets:
            lt = stats["labels_to_target"][t]
            cells += [_labels_cell(lt, n_seeds), _ratio_cell(lt)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## In words", ""]
    for name, stats in summary["strategies"].items():
        if name == BASELINE:
            continue
        lines.append("- " + _sentence(name, stats, cfg["target"]))
    lines += ["", "![learning curves](learning_curve.png)", ""]
    return "\n".join(lines)


def _sentence(name: str, stats: dict[str, Any], target: float) -> str:
    key = target_key(target)
    r = stats["labels_to_target"][key].get("ratio_to_random", {})
    if "auc_minus_random" not in stats:
        return f"{name}: no random baseline in this run, so no ratio to random"
    auc = _num(stats["auc_minus_random"]["mean"], sign="+")
    if not _known(r):
        return (
            f"{name}: no ratio at {key} of full-data accuracy (a seed did not reach it within "
            f"the budget); AUC {auc} versus random"
        )
    return (
        f"{name} needs {r['ratio']:.2f}x the labels of random to reach {key} of full-data "
        f"accuracy (95% interval {r['low']:.2f}-{r['high']:.2f}); AUC {auc} versus random"
    )
