"""Writing a run to disk: rounds.csv (and .parquet), summary.json, report.md, the figure."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

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
    "choice",
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
        leading = [c for c in ROUND_COLUMNS if c in rounds.columns]
        ordered = [*leading, *[c for c in rounds.columns if c not in ROUND_COLUMNS]]
        rounds = rounds[ordered]
    rounds.to_csv(paths["rounds_csv"], index=False)
    try:
        rounds.to_parquet(out / "rounds.parquet", index=False)
        paths["rounds_parquet"] = out / "rounds.parquet"
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    summary = summary_of(result)
    paths["summary"].write_text(json.dumps(json_safe(summary), indent=2) + "\n")
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


def json_safe(value: Any) -> Any:
    """``value`` as strict JSON takes it: NaN and infinities become null, numpy scalars plain
    numbers, dict keys strings (every report of ``simulate`` writes its summary through it)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return json_safe(value.item())
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
    return f"{x:{sign}.{digits}f}" if _measured(x) else "not measured"


def _seeds(n: int) -> str:
    return "1 seed" if n == 1 else f"{n} seeds"


def _spread(stats: dict[str, Any], n_seeds: int, digits: int = 3) -> str:
    """``mean ± sd``; the number of seeds where it is not every seed, never ``± 0`` for one."""
    n = int(stats.get("n", 0))
    if n == 0 or not _measured(stats["mean"]):
        return "not measured"
    if n == 1:
        return f"{stats['mean']:.{digits}f} (1 seed)"
    cell = f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}"
    return cell if n == n_seeds else f"{cell} ({n} of {n_seeds} seeds)"


def _labels_cell(stats: dict[str, Any], n_seeds: int, budget: int) -> str:
    n = int(stats["n"])
    if n == 0:
        return f"> {budget} (not reached)"
    if n == n_seeds:
        return _spread(stats, n_seeds, digits=0)
    cell = f"{stats['mean']:.0f}" + ("" if n == 1 else f" ± {stats['std']:.0f}")
    return f"{cell} ({n}/{n_seeds} seeds; > {budget} in the others)"


def _ratio_cell(name: str, stats: dict[str, Any]) -> str:
    """The ratio to random, always an answer: a figure, a bound, or why there is none."""
    if name == BASELINE:
        return "1 (the baseline)"
    r = stats.get("vs_random")
    if not r:
        return "no random baseline in this run"
    kind, total = r["kind"], r["n_total"]
    if kind == "exact":
        return f"{r['ratio']:.2f}x [{r['low']:.2f}, {r['high']:.2f}]"
    if kind == "upper":
        return f"≤ {r['ratio']:.2f}x (random missed {r['missed_baseline']}/{total} seeds)"
    if kind == "lower":
        return f"≥ {r['ratio']:.2f}x ({name} missed {r['missed']}/{total} seeds)"
    if r["missed_baseline"] == total and r["missed"] < total:
        return f"random never reached it; {name} did in {total - r['missed']}/{total} seeds"
    if kind == "subset":
        return (
            f"{r['ratio']:.2f}x over the {r['n_seeds']}/{total} seeds both reached "
            f"({name} missed {r['missed']}, random {r['missed_baseline']})"
        )
    if r["missed"] == total and r["missed_baseline"] == total:
        return "neither reached it"
    return (
        f"no seed where both reached it ({name} missed {r['missed']}/{total}, random "
        f"{r['missed_baseline']}/{total})"
    )


def filled_mean(stats: dict[str, Any], budget: int) -> float:
    """Mean labels to a target with every seed that never reached it counted as the budget."""
    per_seed = [v if _measured(v) else float(budget) for v in stats["per_seed"].values()]
    return float(sum(per_seed) / len(per_seed)) if per_seed else float("inf")


def verdict(summary: dict[str, Any]) -> str:
    """One line that answers the report's question at the headline target."""
    cfg = summary["config"]
    budget, key = int(cfg["budget"]), target_key(cfg["target"])
    per = summary["strategies"]
    if not per:
        return "**Verdict:** no curve finished, so there is nothing to compare."
    reached = {n: s for n, s in per.items() if s["labels_to_target"][key]["n"] > 0}
    by_auc = max(
        per, key=lambda n: per[n]["auc"]["mean"] if _measured(per[n]["auc"]["mean"]) else -1
    )
    auc_part = f"highest AUC: {by_auc} ({_num(per[by_auc]['auc']['mean'])})"
    if not reached:
        return (
            f"**Verdict:** no strategy reached {key} of full-data accuracy within {budget} "
            f"labels; {auc_part}."
        )
    best = min(
        reached,
        key=lambda n: (
            filled_mean(reached[n]["labels_to_target"][key], budget),
            -per[n]["auc"]["mean"],
        ),
    )
    lt = per[best]["labels_to_target"][key]
    line = (
        f"**Verdict:** to reach {key} of full-data accuracy, {best} needed the fewest labels "
        f"({_labels_cell(lt, len(cfg['seeds']), budget)})"
    )
    if best != BASELINE and BASELINE in per:
        line += f", {_ratio_cell(best, lt)} random's"
    elif best == BASELINE:
        line += ": no strategy beat random"
    return line + f"; {auc_part}."


def _below_random(summary: dict[str, Any]) -> list[str]:
    """A warning per strategy whose mean AUC is below random's."""
    lines = []
    for name, stats in summary["strategies"].items():
        diff = stats.get("auc_minus_random")
        if name == BASELINE or not diff or not _measured(diff["mean"]) or diff["mean"] >= 0:
            continue
        below = sum(1 for v in diff["per_seed"].values() if _measured(v) and v < 0)
        lines.append(
            f"- **Warning:** {name}'s AUC is below random's ({diff['mean']:+.3f}; below on "
            f"{below} of {diff['n']} seeds): on this set-up it costs labels."
        )
    return lines


def render_report(summary: dict[str, Any]) -> str:
    """The Markdown report: a verdict, set-up and definitions, a table, one sentence per
    strategy, warnings where a strategy is below random, ``auto``'s choices."""
    cfg = summary["config"]
    n_seeds = len(cfg["seeds"])
    budget = int(cfg["budget"])
    full = summary["full_data_accuracy"]
    targets = [target_key(t) for t in sorted({0.95, 0.98, 0.99, cfg["target"]})]
    lines = [
        f"# Active-learning simulation: {cfg['dataset']} with {cfg['model']}",
        "",
        verdict(summary),
        "",
        f"- strategies: {', '.join(cfg['strategies'])}; {_seeds(n_seeds)} ({cfg['seeds'][0]}.."
        f"{cfg['seeds'][-1]}); figures are mean ± standard deviation over the seeds",
        f"- {cfg['initial']} {cfg['initial_strategy']} initial labels, {cfg['batch_size']} per "
        f"round, budget {budget} labels (initial set included)",
        f"- full-data accuracy (the same model trained on the whole pool): "
        f"{_spread(full, n_seeds)}",
        "",
        "What each column means:",
        "",
        "- **AUC**: area under the test-accuracy-versus-labels curve (trapezoids) divided by the "
        "label range it spans (initial set to budget), i.e. the mean accuracy along the labels "
        "spent, in [0, 1]; higher is better",
        "- **final accuracy**: test accuracy after the last round",
        "- **labels to X%**: the first label count whose test accuracy reaches X% of that seed's "
        "full-data accuracy",
        "- **ratio to random**: mean labels / random's mean labels on the same seeds, with a 95% "
        "paired bootstrap interval; below 1 saves labels. A seed that never reached the level "
        "needed more than the budget (missed): counting it as the budget gives a bound (≤ where "
        "random missed, ≥ where the strategy missed)",
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
        cells = [name, _spread(stats["auc"], n_seeds), _spread(stats["final_accuracy"], n_seeds)]
        for t in targets:
            lt = stats["labels_to_target"][t]
            cells += [_labels_cell(lt, n_seeds, budget), _ratio_cell(name, lt)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## In words", ""]
    for name, stats in summary["strategies"].items():
        if name == BASELINE:
            continue
        lines.append("- " + _sentence(name, stats, cfg["target"]))
    lines += _below_random(summary)
    for name, stats in summary["strategies"].items():
        if stats.get("choices"):
            counts = ", ".join(f"{arm} {n}" for arm, n in stats["choices"].items())
            lines.append(f"- {name}'s choices (batches per arm over all seeds): {counts}")
    lines += ["", "![learning curves](learning_curve.png)", ""]
    return "\n".join(lines)


def _sentence(name: str, stats: dict[str, Any], target: float) -> str:
    key = target_key(target)
    if "auc_minus_random" not in stats:
        return f"{name}: no random baseline in this run, so no ratio to random"
    auc = _num(stats["auc_minus_random"]["mean"], sign="+")
    r = stats["labels_to_target"][key].get("vs_random") or {}
    if r.get("kind") == "exact":
        return (
            f"{name} needs {r['ratio']:.2f}x the labels of random to reach {key} of full-data "
            f"accuracy (95% interval {r['low']:.2f}-{r['high']:.2f}); AUC {auc} versus random"
        )
    return (
        f"{name} against random at {key} of full-data accuracy: "
        f"{_ratio_cell(name, stats['labels_to_target'][key])}; AUC {auc} versus random"
    )
