"""Label-efficiency benchmark (issue 8): labels each strategy needs versus random.

For each dataset, the issue's protocol: 20 random initial labels, 10 per round, the model named
below, 10+ seeds; labels to reach 95 / 98 / 99% of full-data accuracy, the area under the curve
and each strategy's ratio to random with a paired bootstrap interval over seeds.

    python -m benchmarks.label_efficiency --datasets digits --seeds 10 --workers 2

Writes ``benchmarks/results/label_efficiency/<dataset>/`` (rounds.csv, summary.json, report.md,
learning_curve.png) and the table ``benchmarks/results/label_efficiency.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from labelwise.simulate import SimulationConfig, run_simulation, write_results

RESULTS = Path(__file__).resolve().parent / "results"

#: One setup per dataset; the budget lets random reach 99% of full-data accuracy where feasible.
SETUPS: dict[str, dict[str, object]] = {
    "digits": {"model": "logreg", "budget": 1200},
    "breast_cancer": {"model": "logreg", "budget": 250},
    "wine": {"model": "logreg", "budget": 100, "initial": 10, "batch_size": 5},
    "fashion_mnist": {"model": "logreg", "budget": 3000, "pool_size": 10_000},
    "mnist": {"model": "logreg", "budget": 3000, "pool_size": 10_000},
    "rotten_tomatoes": {"model": "linear_head", "budget": 1500, "text_features": "minilm"},
}
#: The issue's ceilings for the default strategy's ratio to random, per target.
CEILINGS: dict[str, dict[str, float]] = {
    "digits": {"95%": 0.65, "98%": 0.5, "99%": 0.4},
    "fashion_mnist": {"95%": 0.65, "98%": 0.55},
    "mnist": {"95%": 0.65, "98%": 0.55},
}
TARGETS = ("95%", "98%", "99%")


def run_one(name: str, strategies: tuple[str, ...], seeds: int, workers: int) -> dict:
    setup = dict(SETUPS[name])
    config = SimulationConfig(
        dataset=name,
        strategies=strategies,
        seeds=seeds,
        workers=workers,
        initial=int(setup.pop("initial", 20)),
        batch_size=int(setup.pop("batch_size", 10)),
        **setup,  # type: ignore[arg-type]
    )
    start = time.perf_counter()
    result = run_simulation(config, progress=True)
    out = RESULTS / "label_efficiency" / name
    write_results(result, out)
    summary = json.loads((out / "summary.json").read_text())
    summary["wall_seconds"] = time.perf_counter() - start
    return summary


def table(summaries: dict[str, dict]) -> str:
    lines = [
        "# Label efficiency: labels to reach a fraction of full-data accuracy, versus random",
        "",
        "Protocol: 20 random initial labels (wine: 10, batch 5), batch 10, test split held out, "
        "ratio = mean labels / random's mean labels over the same seeds, [95% paired bootstrap "
        "interval]. AUC = mean accuracy along the label axis. Issue ceilings in brackets.",
        "",
        "| dataset | model | seeds | full-data acc. | strategy | AUC (vs random) | "
        + " | ".join(f"ratio at {t}" for t in TARGETS)
        + " | wall s |",
        "|" + " --- |" * (7 + len(TARGETS)),
    ]
    for name, s in summaries.items():
        cfg = s["config"]
        full = s["full_data_accuracy"]
        for strategy, st in s["strategies"].items():
            cells = [
                name,
                cfg["model"],
                str(len(cfg["seeds"])),
                f"{full['mean']:.3f} ± {full['std']:.3f}",
                strategy,
                f"{st['auc']['mean']:.3f} ({st['auc_minus_random']['mean']:+.3f})",
            ]
            for t in TARGETS:
                lt = st["labels_to_target"].get(t, {})
                r = lt.get("ratio_to_random") or {}
                ceiling = CEILINGS.get(name, {}).get(t)
                ratio = r.get("ratio")
                cell = (
                    f"{ratio:.2f} [{r['low']:.2f}, {r['high']:.2f}]"
                    if ratio is not None
                    else f"n/a ({lt.get('n', 0)}/{len(cfg['seeds'])} reached)"
                )
                labels = lt.get("mean")
                if labels is not None:
                    cell += f"; {labels:.0f} labels"
                if ceiling is not None and strategy != "random":
                    cell += f" (<= {ceiling})"
                cells.append(cell)
            cells.append(f"{s['wall_seconds']:.0f}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default="digits")
    parser.add_argument("--strategies", default="random,margin,entropy,least_confidence")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    strategies = tuple(args.strategies.split(","))
    index = RESULTS / "label_efficiency" / "summaries.json"
    summaries = json.loads(index.read_text()) if index.is_file() else {}
    for name in args.datasets.split(","):
        print(f"== {name}", flush=True)
        summaries[name] = run_one(name, strategies, args.seeds, args.workers)
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_text(json.dumps(summaries, indent=1))
        (RESULTS / "label_efficiency.md").write_text(table(summaries))
    print((RESULTS / "label_efficiency.md").read_text())


if __name__ == "__main__":
    main()
