"""Models as well as strategies: ``labelwise simulate --models logreg,rf,mlp``.

Each model runs the same strategies on the same seeds (a seed fixes the test split and the
initial labels whatever the model), one :func:`~labelwise.simulate.runner.run_simulation` per
model. The comparison treats every (model, strategy) pair as one configuration, named
``model+strategy``, and asks which one reaches each level with the fewest labels.

The levels are fractions of the **best** full-data accuracy over the models on that seed, not
of each model's own: a weak model reaches 95% of its own low ceiling early, and that says
nothing about which configuration a user should pick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from labelwise.datasets import Dataset
from labelwise.errors import InvalidInputError
from labelwise.simulate.config import MODEL_NAMES, SimulationConfig
from labelwise.simulate.report import filled_mean, json_safe, write_results
from labelwise.simulate.runner import SimulationResult, load_config_dataset, run_simulation
from labelwise.simulate.summary import summarize, target_key

__all__ = [
    "ModelComparison",
    "compare_summary",
    "parse_models",
    "render_comparison",
    "run_model_comparison",
    "write_comparison",
]


@dataclass(frozen=True)
class ModelComparison:
    """One :class:`SimulationResult` per model, in the order the models were named."""

    results: dict[str, SimulationResult]

    @property
    def complete(self) -> bool:
        """Whether every model's run finished."""
        return all(r.complete for r in self.results.values())


def parse_models(text: str) -> tuple[str, ...]:
    """Model names from ``--models`` (comma-separated, distinct, each a simulate model).

    >>> parse_models("logreg, rf")
    ('logreg', 'rf')
    """
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown or not names:
        raise InvalidInputError(
            f"--models takes comma-separated names of {', '.join(MODEL_NAMES)}; got {text!r}"
        )
    return names


def run_model_comparison(
    config: SimulationConfig,
    models: tuple[str, ...],
    *,
    progress: bool = False,
    dataset: Dataset | None = None,
) -> ModelComparison:
    """Run ``config`` once per model of ``models`` (the dataset is loaded once).

    ``config.full_data`` must be on: the levels are fractions of full-data accuracy.
    """
    if not config.full_data:
        raise InvalidInputError(
            "comparing models needs each model's full-data accuracy: drop --no-full-data"
        )
    if dataset is None:
        dataset = load_config_dataset(config)
    results = {}
    for model in models:
        results[model] = run_simulation(
            config.with_overrides(model=model), progress=progress, dataset=dataset
        )
        if not results[model].complete:
            break
    return ModelComparison(results)


def _configurations(comparison: ModelComparison) -> tuple[pd.DataFrame, dict[int, float]]:
    """Every round with ``strategy`` renamed ``model+strategy``, and per seed the best
    full-data accuracy over the models."""
    frames: list[pd.DataFrame] = []
    best: dict[int, float] = {}
    for model, result in comparison.results.items():
        if not result.rounds.empty:
            renamed = result.rounds.assign(strategy=model + "+" + result.rounds["strategy"])
            frames.append(renamed.assign(model=model))
        for seed, accuracy in result.full_data_accuracy.items():
            best[seed] = max(best.get(seed, accuracy), accuracy)
    rounds = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return rounds, best


def compare_summary(comparison: ModelComparison) -> dict[str, Any]:
    """Per configuration: AUC, final accuracy, labels to each level; per level the winner.

    ``best`` maps each level (``"95%"``) to the configuration with the fewest mean labels, a
    seed that never reached it counted as the budget (``None`` when no configuration did).
    """
    first = next(iter(comparison.results.values()))
    config = first.config
    rounds, ceiling = _configurations(comparison)
    names = tuple(
        f"{model}+{strategy}" for model in comparison.results for strategy in config.strategies
    )
    summary = summarize(rounds, ceiling, names, config.targets)
    per = summary["strategies"]
    best: dict[str, Any] = {}
    for level in config.targets:
        key = target_key(level)
        reached = [n for n in per if per[n]["labels_to_target"][key]["n"] > 0]
        if not reached:
            best[key] = None
            continue
        winner = min(
            reached,
            key=lambda n: (
                filled_mean(per[n]["labels_to_target"][key], config.budget),
                -per[n]["auc"]["mean"],
            ),
        )
        best[key] = {
            "configuration": winner,
            "mean_labels": filled_mean(per[winner]["labels_to_target"][key], config.budget),
            "seeds_reached": per[winner]["labels_to_target"][key]["n"],
        }
    return {
        "complete": comparison.complete,
        "config": {**config.to_dict(), "models": list(comparison.results)},
        "models_full_data_accuracy": {
            model: summarize(r.rounds, r.full_data_accuracy, (), config.targets)[
                "full_data_accuracy"
            ]
            for model, r in comparison.results.items()
        },
        "reference_accuracy": summary["full_data_accuracy"],
        "configurations": per,
        "best": best,
    }


def _cell(stats: dict[str, Any], n_seeds: int, budget: int) -> str:
    if stats["n"] == 0:
        return f"> {budget} (not reached)"
    cell = f"{stats['mean']:.0f}" + (f" ± {stats['std']:.0f}" if stats["n"] > 1 else "")
    return cell if stats["n"] == n_seeds else f"{cell} ({stats['n']}/{n_seeds} seeds)"


def render_comparison(summary: dict[str, Any]) -> str:
    """The Markdown report: per level the configuration with the fewest labels, then a table."""
    cfg = summary["config"]
    n_seeds, budget = len(cfg["seeds"]), int(cfg["budget"])
    keys = [target_key(t) for t in sorted({0.95, 0.98, 0.99, cfg["target"]})]
    lines = [
        f"# Models and strategies compared: {cfg['dataset']}",
        "",
    ]
    for key in keys:
        best = summary["best"].get(key)
        if best is None:
            lines.append(f"- **{key}**: no configuration reached it within {budget} labels")
        else:
            lines.append(
                f"- **{key}**: {best['configuration']} needed the fewest labels "
                f"({best['mean_labels']:.0f} on average over {n_seeds} seeds, "
                f"reached on {best['seeds_reached']})"
            )
    lines += [
        "",
        f"- models: {', '.join(cfg['models'])}; strategies: {', '.join(cfg['strategies'])}; "
        f"{n_seeds} seeds; {cfg['initial']} {cfg['initial_strategy']} initial labels, "
        f"{cfg['batch_size']} per round, budget {budget}",
        "- a level X% is X% of the **best** full-data accuracy over the models on that seed "
        "(each model trained on the whole pool); per model, full-data accuracy: "
        + "; ".join(
            f"{model} {stats['mean']:.3f}"
            for model, stats in summary["models_full_data_accuracy"].items()
        ),
        "- labels: mean ± sd over the seeds that reached the level; the winner is chosen "
        "on the mean with a seed that never reached it counted as the budget",
        "- AUC: mean test accuracy along the labels spent (area under the learning curve "
        "divided by its label range); each model's own report is in its folder",
    ]
    if not summary["complete"]:
        lines += ["", "**The run was interrupted: these are partial results.**"]
    header = "| configuration | AUC | final accuracy | " + " | ".join(
        f"labels to {k}" for k in keys
    )
    lines += ["", header + " |", "|" + " --- |" * (3 + len(keys))]
    for name, stats in summary["configurations"].items():
        cells = [
            name,
            f"{stats['auc']['mean']:.3f}",
            f"{stats['final_accuracy']['mean']:.3f}",
            *(_cell(stats["labels_to_target"][k], n_seeds, budget) for k in keys),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_comparison(comparison: ModelComparison, out: str | Path) -> dict[str, Path]:
    """Each model's full outputs in ``out/<model>/``; the comparison's ``report.md``,
    ``summary.json`` and ``rounds.csv`` (with a ``model`` column) in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for model, result in comparison.results.items():
        write_results(result, out / model)
    summary = compare_summary(comparison)
    rounds, _ = _configurations(comparison)
    paths = {
        "report": out / "report.md",
        "summary": out / "summary.json",
        "rounds_csv": out / "rounds.csv",
    }
    paths["report"].write_text(render_comparison(summary))
    paths["summary"].write_text(json.dumps(json_safe(summary), indent=2) + "\n")
    rounds.to_csv(paths["rounds_csv"], index=False)
    return paths
