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
    # wine: the pool is 133 items; at 100 labels random had not reached 98% on 2 seeds of 10.
    "wine": {"model": "logreg", "budget": 130, "initial": 10, "batch_size": 5},
    # 784-d images. Each round's lbfgs starts from the last round's solution and stops at a
    # gradient tolerance of 1e-3 (sklearn's 1e-4 costs ~5x the iterations for the same test
    # accuracy to 0.001; digits with these settings, labeled-set scaler in both runs: margin
    # 0.48 / 0.37 / 0.31 of random's labels vs 0.54 / 0.37 / 0.32 with cold fits at 1e-4).
    # Budget 2,000: margin reaches 99% of full-data accuracy by ~1,000 labels, random's 98%
    # by ~700-1,500 (a 3,000-label run cost ~27 min for 10 seeds on this shared machine).
    # C=0.03: the best mean 5-fold CV accuracy on 200 random pool labels per seed (``--choose-c``,
    # results/label_efficiency/fashion_mnist_c_selection.json; C=1 was 0.7325, 0.03 0.7445).
    "fashion_mnist": {
        "model": "logreg",
        "budget": 2000,
        "pool_size": 10_000,
        "model_params": {"warm_start": True, "tol": 1e-3, "C": 0.03},
    },
    # MNIST: at 2,000 labels random had reached 98% on 9 seeds of 10 and 99% on 3.
    "mnist": {
        "model": "logreg",
        "budget": 3000,
        "pool_size": 10_000,
        "model_params": {"warm_start": True, "tol": 1e-3},
    },
    # 384-d unit-norm MiniLM embeddings (features ~0.05 each): C=3 was the best 5-fold CV
    # accuracy averaged over 10 small labeled sets of 200 (one per seed, from that seed's pool;
    # ``--choose-c``, results/label_efficiency/rotten_tomatoes_c_selection.json). The head's
    # earlier default C=0.1 (now 3) did no better than the majority class (0.564 vs 0.578).
    # Budget: random had reached 98% of full-data accuracy on 4 seeds of 10 at 1,500 labels and
    # 99% on 7 of 10 at 4,000 (the curve is flat near the top: 99% is 0.76 vs 0.77).
    "rotten_tomatoes": {
        "model": "linear_head",
        "budget": 7000,
        "text_features": "minilm",
        "model_params": {"C": 3.0, "warm_start": True},
    },
}
#: The issue's ceilings for the default strategy's ratio to random, per target.
CEILINGS: dict[str, dict[str, float]] = {
    "digits": {"95%": 0.65, "98%": 0.5, "99%": 0.4},
    "fashion_mnist": {"95%": 0.65, "98%": 0.55},
    "mnist": {"95%": 0.65, "98%": 0.55},
}
TARGETS = ("95%", "98%", "99%")
#: The strategy labelwise ships as its default, held to "never worse than random".
DEFAULT_STRATEGY = "margin"
#: What a reader needs beside a dataset's rows (set-up choices, comparisons with the issue).
NOTES: dict[str, str] = {
    "digits": (
        "issue's reference loop: 0.60 / 0.46 / 0.33. Rerun after the scaler moved from the "
        "labeled set to the pool (see fashion_mnist): margin 0.53 / 0.37 / 0.34 here, "
        "0.54 / 0.37 / 0.32 with the labeled-set scaler: the change hardly matters on 64 "
        "features."
    ),
    "wine": (
        "budget 130 (the whole pool is 133): at the earlier budget 100 random had not reached "
        "98% / 99% on 2 seeds, so those ratios were n/a."
    ),
    "breast_cancer": (
        "margin's 1.04 at 95% is within the 1.05 allowance: 95% of full-data accuracy is reached "
        "after a handful of labels by every strategy (26-27 labels), there is nothing to save."
    ),
    "fashion_mnist": (
        "issue's reference loop: ~0.57x / 0.50x at 95 / 98%. Logistic regression with C=0.03, "
        "chosen by 5-fold CV on 200 random pool labels per seed (fashion_mnist_c_selection.json): "
        "full-data accuracy 0.828 (C=1 gave 0.800, and margin 0.74 [0.59, 0.93] at 95% in "
        "that run: with C=1 the 95% target, 0.76, came after ~335 labels, where margin led by "
        "only 1-2 points). 98%: random reached it on 7 of 10 seeds within 2,000 labels; "
        "counting the budget for the others bounds margin's ratio below 0.49 (margin reached "
        "it on all 10). Found and fixed a bug on the way: with the scaler fitted on the labeled "
        "set (a few dozen images), pixels nearly constant there got a tiny scale, pool images "
        "landed far outside the training range and margin chased them: margin needed 1.59x "
        "[1.17, 2.13] random's labels to 95% and 0.87x to 98%, AUC -0.002 (10 seeds, C=1, "
        "budget 3,000). Standardising on the pool (features only, no labels, test split never "
        "in it) fixed it. Entropy is worse than random here (C=1 run: 2.02x to 95%, AUC "
        "-0.017), one more reason for margin as the default."
    ),
    "mnist": (
        "within the issue's ceilings (0.65 / 0.55). Budget 3,000: at 2,000 random had reached "
        "98% on 9 seeds of 10; the 2,000-label run gave the same labels per seed where both "
        "reached a target (a seed gives the same numbers). 99%: random reached it on 7 of 10 "
        "seeds within 3,000 labels, margin on all 10 (871 on average): ratio below 0.36."
    ),
    "rotten_tomatoes": (
        "12,808 snippets, 25% test split per seed, all-MiniLM-L6-v2 embeddings (384-d, unit "
        "norm, computed once: 803 s on the shared machine, then read from the cache), "
        "logistic regression C=3, chosen by 5-fold CV on a labeled set of 200 per seed drawn "
        "from that seed's pool (mean CV accuracy over 10 seeds: C=0.01 0.551, 0.1 0.564, "
        "0.3 0.629, 1 0.677, 3 0.682, 10 0.680; results/label_efficiency/"
        "rotten_tomatoes_c_selection.json). On unit-norm embeddings C=0.1 (the head's "
        "earlier default; now 3) is too strong: 0.564, no better than always answering fresh (0.578). "
        "Budget 7,000: at 4,000 random had reached 99% on only 7 of 10 seeds (the top of the "
        "curve is flat: 99% is 0.759 against 0.766)."
    ),
}


#: Candidate inverse regularisation strengths of the text head, and the size of the small
#: labeled set each seed draws (from its own pool, never its test split) to choose among them.
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
C_SELECTION_LABELS = 200


def choose_c(name: str, seeds: int, grid: tuple[float, ...] = C_GRID) -> dict[str, object]:
    """The head's C by 5-fold cross-validation on a small labeled set, seed by seed.

    For each seed: that seed's pool (its test split is cut off first, as in the runs), 200 pool
    items drawn at random, the mean 5-fold CV accuracy of the model for every C of ``grid``.
    Returns the CV table, each seed's best C, and the C of the best CV accuracy averaged over
    the seeds: the one C that the runs fix for every seed.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from labelwise.simulate.models import make_model
    from labelwise.simulate.problem import make_problem
    from labelwise.simulate.runner import load_config_dataset

    setup = dict(SETUPS[name])
    setup.pop("model_params", None)
    config = SimulationConfig(dataset=name, seeds=seeds, **setup)  # type: ignore[arg-type]
    dataset = load_config_dataset(config)
    table: dict[str, dict[str, float]] = {}
    best: dict[str, float] = {}
    for seed in config.seeds:
        problem = make_problem(dataset, config, seed)
        rng = np.random.default_rng([seed, 99])
        rows = rng.choice(problem.y_pool.size, size=C_SELECTION_LABELS, replace=False)
        X, y = problem.X_pool[rows], problem.y_pool[rows]
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(X, y)
        splits = list(folds)
        scores = {}
        for c in grid:
            accs = []
            for train, test in splits:
                model = make_model(
                    config.model,
                    problem.n_classes,
                    X.shape[1],
                    seed,
                    params={"C": c},
                    pool_features=problem.X_pool,
                )
                model.fit(X[train], y[train])
                accs.append(float(np.mean(model.predict_proba(X[test]).argmax(1) == y[test])))
            scores[f"{c:g}"] = float(np.mean(accs))
        table[str(seed)] = scores
        best[str(seed)] = float(max(grid, key=lambda c: scores[f"{c:g}"]))
    mean_cv = {f"{c:g}": float(np.mean([table[s][f"{c:g}"] for s in table])) for c in grid}
    return {
        "labels_per_seed": C_SELECTION_LABELS,
        "cv_accuracy": table,
        "mean_cv_accuracy": mean_cv,
        "best_per_seed": best,
        "chosen": float(max(grid, key=lambda c: mean_cv[f"{c:g}"])),
    }


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
        "Protocol: 20 random initial labels (wine: 10, batch 5), batch 10, test split held out "
        "(MNIST / Fashion-MNIST: the standard 10k test images, pool = 10k of the training "
        "images per seed), logreg = logistic regression (C=1) on features standardised on the "
        "pool, linear_head = logistic regression on MiniLM sentence embeddings (C below). "
        "Ratio = mean labels / random's mean labels over the same seeds, [95% paired bootstrap "
        "interval], then mean labels; n/a where a seed never reached the target within the "
        "budget. AUC = mean accuracy along the label axis (vs random: mean paired difference). "
        "Issue ceilings in brackets. wall s = the run's wall time on a 2-core machine shared "
        "with other jobs (at nice 10), so only a rough cost.",
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
                bound = censored_bound(s, strategy, t)
                if ratio is not None:
                    cell = f"{ratio:.2f} [{r['low']:.2f}, {r['high']:.2f}]"
                elif bound is not None:
                    cell = (
                        f"< {bound:.2f} (random: {lt_random_n(s, t)}/{len(cfg['seeds'])} reached)"
                    )
                else:
                    cell = f"n/a ({lt.get('n', 0)}/{len(cfg['seeds'])} reached)"
                labels = lt.get("mean")
                if labels is not None:
                    cell += f"; {labels:.0f} labels"
                if ceiling is not None and strategy != "random":
                    cell += f" (<= {ceiling})"
                cells.append(cell)
            cells.append(f"{s['wall_seconds']:.0f}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def censored_bound(summary: dict, strategy: str, target: str) -> float | None:
    """An upper bound on the ratio to random where random missed the target on some seeds.

    Only when ``strategy`` reached it on every seed: a seed where random never got there within
    the budget needed more than the budget, so counting the budget for it makes random's mean
    too small and the ratio too large. ``None`` where no bound holds.
    """
    per = summary["strategies"]
    if strategy == "random" or "random" not in per:
        return None
    mine = per[strategy]["labels_to_target"][target]["per_seed"]
    base = per["random"]["labels_to_target"][target]["per_seed"]
    if any(v is None for v in mine.values()) or all(v is not None for v in base.values()):
        return None
    budget = summary["config"]["budget"]
    base_filled = [budget if v is None else v for v in base.values()]
    return (sum(mine.values()) / len(mine)) / (sum(base_filled) / len(base_filled))


def lt_random_n(summary: dict, target: str) -> int:
    """Seeds on which random reached ``target``."""
    return int(summary["strategies"]["random"]["labels_to_target"][target]["n"])


def default_check(summaries: dict[str, dict]) -> list[str]:
    """One line per dataset: is the default strategy no worse than random (ratio <= 1.05 at
    every target, AUC at least random's)? Targets random never reached are named, not hidden,
    and so are the issue's ceilings that the default misses."""
    lines = []
    for name, s in summaries.items():
        st = s["strategies"].get(DEFAULT_STRATEGY)
        if st is None:
            continue
        problems, unknown, missed = [], [], []
        for t in TARGETS:
            ratio = st["labels_to_target"][t].get("ratio_to_random", {}).get("ratio")
            if ratio is None or ratio != ratio:  # NaN: a seed never reached the target
                ratio = censored_bound(s, DEFAULT_STRATEGY, t)
            ceiling = CEILINGS.get(name, {}).get(t)
            if ratio is None:
                unknown.append(t)
            elif ratio > 1.05:
                problems.append(f"ratio {ratio:.2f} at {t}")
            if ratio is not None and ceiling is not None and ratio > ceiling:
                missed.append(f"{ratio:.2f} > {ceiling} at {t}")
        auc = st["auc_minus_random"]["mean"]
        if auc < 0:
            problems.append(f"AUC {auc:+.3f} below random")
        verdict = "WORSE than random: " + ", ".join(problems) if problems else "not worse"
        if unknown:
            verdict += f" (no ratio at {', '.join(unknown)}: a seed never reached it)"
        if missed:
            verdict += "; issue ceiling MISSED: " + ", ".join(missed)
        lines.append(f"- {name}: {verdict}; AUC {auc:+.3f} vs random")
    return lines


def write_table(summaries: dict[str, dict]) -> None:
    """``results/label_efficiency.md``: the table, the default-strategy check and the notes."""
    text = table(summaries)
    text += f"\n## The default ({DEFAULT_STRATEGY}) against random and the issue's ceilings\n\n"
    text += "\n".join(default_check(summaries)) + "\n"
    notes = [f"- **{name}**: {NOTES[name]}" for name in summaries if name in NOTES]
    if notes:
        text += "\n## Notes\n\n" + "\n".join(notes) + "\n"
    (RESULTS / "label_efficiency.md").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default="digits")
    parser.add_argument("--strategies", default="random,margin,entropy,least_confidence")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--choose-c",
        action="store_true",
        help="only choose the linear model's C by cross-validation (see choose_c) and write it",
    )
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="only rewrite results/label_efficiency.md from the stored summaries",
    )
    args = parser.parse_args()
    index = RESULTS / "label_efficiency" / "summaries.json"
    if args.table_only:
        write_table(json.loads(index.read_text()))
        print((RESULTS / "label_efficiency.md").read_text())
        return
    if args.choose_c:
        for name in args.datasets.split(","):
            chosen = choose_c(name, args.seeds)
            path = RESULTS / "label_efficiency" / f"{name}_c_selection.json"
            path.write_text(json.dumps(chosen, indent=1))
            print(json.dumps(chosen, indent=1))
        return
    strategies = tuple(args.strategies.split(","))
    for name in args.datasets.split(","):
        print(f"== {name}", flush=True)
        summary = run_one(name, strategies, args.seeds, args.workers)
        # Read the index again just before writing: another dataset's run may have finished
        # meanwhile (runs of different datasets can go side by side).
        summaries = json.loads(index.read_text()) if index.is_file() else {}
        summaries[name] = summary
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_text(json.dumps(summaries, indent=1))
        write_table(summaries)
    print((RESULTS / "label_efficiency.md").read_text())


if __name__ == "__main__":
    main()
