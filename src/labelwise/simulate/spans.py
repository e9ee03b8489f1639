"""Learning curves of span F1 for sequence strategies, with ground truth as the oracle.

Protocol (the same for every strategy, paired by seed): each seed splits the corpus into a test
part (``test_fraction``) and a pool, draws ``initial`` pool sentences at random as the seed set,
then runs ``rounds`` rounds of the round engine (:class:`~labelwise.loop.RoundEngine` with the
tagger), each adding ``batch_size`` sentences with their gold tags. After every fit the model's
exact-match span F1 (micro, CoNLL's measure) on the test part is recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.loop import RoundEngine
from labelwise.simulate.report import json_safe
from labelwise.spans.agreement import span_f1
from labelwise.spans.document import Document
from labelwise.spans.inputs import SequenceModel
from labelwise.spans.selection import get_sequence_strategy
from labelwise.spans.tags import spans_to_tags, tags_to_spans

__all__ = [
    "SpanCurve",
    "curve_area",
    "simulate_spans",
    "span_report_markdown",
    "span_rounds",
    "summarize_spans",
    "test_span_f1",
    "write_span_results",
]


@dataclass(frozen=True)
class SpanCurve:
    """One strategy's learning curve for one seed: span F1 after each fit."""

    strategy: str
    seed: int
    n_labeled: tuple[int, ...]
    span_f1: tuple[float, ...]


def curve_area(curve: SpanCurve) -> float:
    """Normalized area under the curve: trapezoids over ``n_labeled``, divided by its range."""
    x, y = np.asarray(curve.n_labeled, float), np.asarray(curve.span_f1, float)
    if x.size < 2:
        return float(y[0]) if y.size else 0.0
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))


def test_span_f1(model: SequenceModel, documents: Sequence[Document]) -> float:
    """Exact span F1 of the model's best paths against the documents' gold spans."""
    paths, _ = model.best_path([d.words for d in documents])
    predicted = [tags_to_spans(d.tokens, tags) for d, tags in zip(documents, paths, strict=True)]
    return span_f1(predicted, [list(d.spans) for d in documents]).f1


test_span_f1.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def simulate_spans(
    documents: Sequence[Document],
    model_factory: Callable[[], SequenceModel],
    strategy: str = "mnlp",
    seeds: Sequence[int] = (0,),
    initial: int = 20,
    batch_size: int = 20,
    rounds: int = 10,
    test_fraction: float = 0.3,
    max_pool: int | None = None,
) -> list[SpanCurve]:
    """Run the protocol above for one strategy and each seed.

    Parameters
    ----------
    documents : the corpus, gold spans on token boundaries.
    model_factory : builds a fresh tagger per seed (``CRFTagger``).
    strategy : a name of :func:`~labelwise.spans.selection.get_sequence_strategy`.
    max_pool : cap on pool sentences (a random subset per seed), for quick runs.
    """
    if not 0 < test_fraction < 1:
        raise InvalidInputError(f"test_fraction must be in (0, 1), got {test_fraction}")
    tags = [spans_to_tags(d.tokens, d.spans) for d in documents]
    words = [d.words for d in documents]
    chooser = get_sequence_strategy(strategy)
    curves = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(documents))
        n_test = round(test_fraction * len(documents))
        test = [documents[i] for i in order[:n_test]]
        pool = order[n_test:] if max_pool is None else order[n_test : n_test + max_pool]
        if initial + rounds * batch_size > pool.size:
            raise InvalidInputError(
                f"{initial} + {rounds} x {batch_size} sentences exceed the pool of {pool.size}"
            )
        labeled = list(pool[:initial])
        unlabeled = list(pool[initial:])
        model = model_factory()
        engine = RoundEngine(model, chooser)
        sizes, scores = [], []
        for _ in range(rounds):
            result = engine.run_round(
                [words[i] for i in labeled],
                [tags[i] for i in labeled],
                [words[i] for i in unlabeled],
                batch_size,
                rng,
            )
            sizes.append(len(labeled))
            scores.append(test_span_f1(model, test))
            picked = set(result.indices.tolist())
            labeled += [unlabeled[j] for j in sorted(picked)]
            unlabeled = [i for j, i in enumerate(unlabeled) if j not in picked]
        engine.fit([words[i] for i in labeled], [tags[i] for i in labeled])  # the last batch too
        sizes.append(len(labeled))
        scores.append(test_span_f1(model, test))
        curves.append(SpanCurve(strategy, int(seed), tuple(sizes), tuple(scores)))
    return curves


# -- the report: the same files as the other tasks' (rounds.csv, summary.json, report.md, PNG) --

#: The strategy every other is compared with.
BASELINE = "random"


def span_rounds(curves: Sequence[SpanCurve]) -> list[dict[str, object]]:
    """One row per strategy, seed and fit: ``strategy, seed, round, n_labels, span_f1``."""
    return [
        {"strategy": c.strategy, "seed": c.seed, "round": r, "n_labels": n, "span_f1": f}
        for c in curves
        for r, (n, f) in enumerate(zip(c.n_labeled, c.span_f1, strict=True))
    ]


def summarize_spans(
    curves: Sequence[SpanCurve], dataset: str, source: str, model: str
) -> dict[str, Any]:
    """Per strategy, over seeds: area under the span-F1 curve, final span F1, and the area's
    paired difference with random's (same seed: same split and seed set)."""
    from labelwise.simulate.curves import mean_and_spread

    def stats(per_seed: dict[int, float]) -> dict[str, Any]:
        mean, spread, n = mean_and_spread(list(per_seed.values()))
        return {"mean": mean, "std": spread, "n": n, "per_seed": per_seed}

    areas: dict[str, dict[int, float]] = {}
    finals: dict[str, dict[int, float]] = {}
    for curve in curves:
        areas.setdefault(curve.strategy, {})[curve.seed] = curve_area(curve)
        finals.setdefault(curve.strategy, {})[curve.seed] = curve.span_f1[-1]
    per: dict[str, dict[str, Any]] = {}
    for name in areas:
        per[name] = {"auc": stats(areas[name]), "final_span_f1": stats(finals[name])}
        if name != BASELINE and BASELINE in areas:
            seeds = sorted(set(areas[name]) & set(areas[BASELINE]))
            diffs = np.array([areas[name][s] - areas[BASELINE][s] for s in seeds])
            per[name]["auc_minus_random"] = {
                **stats(dict(zip(seeds, diffs.tolist(), strict=True))),
                "seeds_not_worse": int(np.sum(diffs >= 0)),
            }
    return {
        "task": "spans",
        "dataset": dataset,
        "source": source,
        "metric": "span_f1",
        "model": model,
        "strategies": per,
    }


def plot_span_curves(curves: Sequence[SpanCurve], title: str, path: str | Path) -> Path:
    """A PNG of span F1 against labeled sentences: mean over seeds, a one-std band, random
    black and dashed."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from labelwise.simulate.curves import mean_curve

    fig, ax = plt.subplots(figsize=(7.0, 4.6), dpi=150)
    palette = plt.get_cmap("tab10")
    names = list(dict.fromkeys(c.strategy for c in curves))
    for k, name in enumerate(names):
        mine = [c for c in curves if c.strategy == name]
        n = np.concatenate([np.asarray(c.n_labeled, np.float64) for c in mine])
        f = np.concatenate([np.asarray(c.span_f1, np.float64) for c in mine])
        grid, mean, std = mean_curve(n, f)
        colour: Any = "black" if name == BASELINE else palette(k % 10)
        style = "--" if name == BASELINE else "-"
        ax.plot(grid, mean, style, color=colour, lw=1.6, label=f"{name} (n={len(mine)})")
        ax.fill_between(grid, mean - std, mean + std, color=colour, alpha=0.15, lw=0)
    ax.set_xlabel("labeled sentences")
    ax.set_ylabel("test span F1 (exact match)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.3f}"


def span_report_markdown(summary: dict[str, Any]) -> str:
    """The summary as a Markdown report: one table row per strategy."""
    lines = [
        f"# {summary['dataset']}: span (NER) active learning",
        "",
        f"Data: {summary['source']}. Model: {summary['model']}. Metric: exact-match span F1 "
        "(micro) on each seed's held-out sentences.",
        "",
        "| strategy | AUC | final span F1 | AUC - random | seeds not worse |",
        "|---|---|---|---|---|",
    ]
    for name, s in summary["strategies"].items():
        diff = s.get("auc_minus_random")
        cells = [
            name,
            f"{_fmt(s['auc']['mean'])} ± {_fmt(s['auc']['std'])}",
            _fmt(s["final_span_f1"]["mean"]),
            "-" if diff is None else f"{diff['mean']:+.3f} ± {_fmt(diff['std'])}",
            "-" if diff is None else f"{diff['seeds_not_worse']}/{diff['n']}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "AUC: mean span F1 along the label axis. AUC - random: paired by seed (same split, "
        "same seed set).",
    ]
    return "\n".join(lines) + "\n"


def write_span_results(
    curves: Sequence[SpanCurve],
    out_dir: str | Path,
    *,
    dataset: str,
    source: str,
    model: str = "crf",
) -> dict[str, Path]:
    """Write ``rounds.csv``, ``summary.json``, ``report.md`` and ``curves.png`` to ``out_dir``."""
    import csv
    import json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "rounds": out / "rounds.csv",
        "summary": out / "summary.json",
        "report": out / "report.md",
        "plot": out / "curves.png",
    }
    rows = span_rounds(curves)
    with paths["rounds"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["strategy", "seed", "round", "n_labels", "span_f1"])
        writer.writeheader()
        writer.writerows(rows)
    summary = summarize_spans(curves, dataset, source, model)
    paths["summary"].write_text(json.dumps(json_safe(summary), indent=2, allow_nan=False) + "\n")
    paths["report"].write_text(span_report_markdown(summary))
    plot_span_curves(curves, f"{dataset} (spans, {model})", paths["plot"])
    return paths
