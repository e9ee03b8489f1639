"""Simulated streams: a stream rule against random labeling at the same budget.

A shipped dataset is shuffled per seed into a stream and a held-out test set. Each method sees
the same stream under the same budget (``budget`` of the items, at most ``floor(budget *
window)`` labels in any ``window`` items) and gets each asked label at once from the known
answers; its model is refitted after each answer, and the test accuracy is recorded every
``eval_every`` labels. The uncertainty rules are those of Zliobaite et al. 2014 ("Active
Learning With Drifting Streaming Data", IEEE TNNLS 25(1)); random labels an item the budget
allows with probability ``budget``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from labelwise.errors import InvalidInputError
from labelwise.strategies import FixedThreshold, RandomizedVariableUncertainty, VariableUncertainty
from labelwise.strategies.stream import BudgetedStream
from labelwise.stream.budget import RandomLabeling
from labelwise.stream.items import StreamItem
from labelwise.stream.scoring import UncertaintyKind
from labelwise.stream.selector import StreamSelector

RuleName = Literal["variable", "randomized", "fixed"]
RULES: tuple[str, ...] = ("variable", "randomized", "fixed")


@dataclass(frozen=True)
class StreamSimulationConfig:
    """Settings of :func:`simulate_stream`.

    Parameters
    ----------
    dataset : a name of :func:`labelwise.datasets.load_dataset` (features are used as given).
    rule : the uncertainty rule: ``variable``, ``randomized`` or ``fixed``.
    budget, window : the label budget (fraction) and its window in items.
    threshold : the fixed threshold, or the initial one of the variable rules.
    step : the variable rules' adjusting step.
    kind : the uncertainty fed to the rule.
    seeds : number of seeds (0 .. seeds - 1): stream orders and test splits.
    test_size : fraction held out for the test accuracy.
    eval_every : labels between two accuracy measurements.
    max_items : cut the stream to this many items (None: all but the test set).
    """

    dataset: str = "digits"
    rule: RuleName = "variable"
    budget: float = 0.1
    window: int | None = 100
    threshold: float = 0.5
    step: float = 0.01
    kind: UncertaintyKind = "least_confidence"
    seeds: int = 5
    test_size: float = 0.25
    eval_every: int = 5
    max_items: int | None = None

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise InvalidInputError(f"rule must be one of {', '.join(RULES)}, got {self.rule!r}")
        if self.seeds < 1:
            raise InvalidInputError(f"seeds must be >= 1, got {self.seeds}")
        if not 0 < self.test_size < 1:
            raise InvalidInputError(f"test_size must lie in (0, 1), got {self.test_size}")
        if self.eval_every < 1:
            raise InvalidInputError(f"eval_every must be >= 1, got {self.eval_every}")
        self.make_rule("uncertainty", 0)  # validates budget, window, threshold and step

    def make_rule(self, method: str, seed: int) -> BudgetedStream:
        """The rule of ``method`` (``uncertainty`` or ``random``) for one seed."""
        if method == "random":
            return RandomLabeling(self.budget, self.window, rng=seed)
        if self.rule == "fixed":
            return FixedThreshold(self.threshold, self.budget, self.window)
        if self.rule == "randomized":
            return RandomizedVariableUncertainty(
                self.budget, self.window, self.threshold, self.step, rng=seed
            )
        return VariableUncertainty(self.budget, self.window, self.threshold, self.step)


def feature_model(classes: Sequence[str]) -> Any:
    """Standardised features + logistic regression, label space fixed to ``classes``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from labelwise.models import SklearnModel

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return SklearnModel(pipeline, classes=list(classes))


@dataclass(frozen=True)
class StreamSimulation:
    """Results: one row per measurement (``curves``) and the per-method summary."""

    config: StreamSimulationConfig
    curves: pd.DataFrame  # seed, method, labels, seen, accuracy
    summary: dict[str, Any]


def simulate_stream(config: StreamSimulationConfig | None = None) -> StreamSimulation:
    """Run the rule and random over the same streams; see the module docstring."""
    from labelwise.datasets import load_dataset

    config = config or StreamSimulationConfig()
    data = load_dataset(config.dataset)
    classes = [str(name) for name in data.class_names]
    X = np.asarray(data.X, dtype=np.float64)
    y = np.asarray(data.y)
    rows: list[dict[str, Any]] = []
    with _one_thread():
        for seed in range(config.seeds):
            rows += _run_seed(config, seed, X, y, classes)
    curves = pd.DataFrame(rows)
    return StreamSimulation(config, curves, summarize(curves))


def _one_thread() -> Any:
    """BLAS on one thread: the models here are small, and threads only contend for them."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _run_seed(
    config: StreamSimulationConfig, seed: int, X: np.ndarray, y: np.ndarray, classes: list[str]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = max(1, round(config.test_size * len(X)))
    test, stream = order[:n_test], order[n_test:]
    if config.max_items is not None:
        stream = stream[: config.max_items]
    items = [StreamItem(id=str(i), features=tuple(X[i]), label=classes[int(y[i])]) for i in stream]
    y_test = np.array([classes[int(k)] for k in y[test]])
    for method in ("uncertainty", "random"):
        rows += _run_one(config, method, seed, items, X[test], y_test, classes)
    return rows


def _run_one(
    config: StreamSimulationConfig,
    method: str,
    seed: int,
    items: list[StreamItem],
    X_test: np.ndarray,
    y_test: np.ndarray,
    classes: list[str],
) -> list[dict[str, Any]]:
    selector = StreamSelector(
        classes, config.make_rule(method, seed), feature_model, kind=config.kind
    )
    rows: list[dict[str, Any]] = []

    def measure(seen: int) -> None:
        predicted = np.asarray(classes)[np.argmax(selector.model.predict_proba(X_test), axis=1)]
        rows.append(
            {
                "seed": seed,
                "method": method,
                "labels": selector.n_answers,
                "seen": seen,
                "accuracy": float(np.mean(predicted == y_test)),
                "asked_positions": None,
            }
        )

    asked_at: list[int] = []
    for position, item in enumerate(items):
        if not selector.offer(item).asked:
            continue
        asked_at.append(position)
        assert item.label is not None
        selector.teach(item, item.label)
        if selector.n_answers % config.eval_every == 0:
            measure(position + 1)
    if selector.model is not None:
        measure(len(items))
    if rows:
        rows[-1]["asked_positions"] = json.dumps(asked_at)
    return rows


def summarize(curves: pd.DataFrame) -> dict[str, Any]:
    """Per method: final accuracy and labels used (mean, std over seeds), and the accuracy of
    both at equal labels (each seed's smaller final label count)."""
    finals = curves.groupby(["method", "seed"]).tail(1).set_index(["method", "seed"])
    summary: dict[str, Any] = {}
    for method, part in finals.groupby(level="method"):
        summary[str(method)] = {
            "final_accuracy_mean": float(part["accuracy"].mean()),
            "final_accuracy_std": float(part["accuracy"].std(ddof=0)),
            "labels_mean": float(part["labels"].mean()),
        }
    equal: dict[str, list[float]] = {}
    for seed in sorted(curves["seed"].unique()):
        at_seed = curves[curves["seed"] == seed]
        limit = at_seed.groupby("method")["labels"].max().min()
        for method, part in at_seed.groupby("method"):
            reached = part[part["labels"] <= limit]
            if len(reached):
                equal.setdefault(str(method), []).append(float(reached["accuracy"].iloc[-1]))
    for method, values in equal.items():
        summary[method]["equal_labels_accuracy_mean"] = float(np.mean(values))
    return summary


def write_stream_results(result: StreamSimulation, out: str | Path) -> dict[str, Path]:
    """Write ``curves.csv``, ``summary.json`` and ``learning_curve.png`` under ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "curves": folder / "curves.csv",
        "summary": folder / "summary.json",
        "plot": folder / "learning_curve.png",
    }
    result.curves.to_csv(paths["curves"], index=False)
    paths["summary"].write_text(
        json.dumps({"config": asdict(result.config), **result.summary}, indent=2) + "\n"
    )
    plot_stream_curves(result, paths["plot"])
    return paths


def plot_stream_curves(result: StreamSimulation, path: str | Path) -> Path:
    """Test accuracy against labels, mean over seeds with a one-std band; random dashed."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    curves = result.curves
    fig, ax = plt.subplots(figsize=(7.0, 4.6), dpi=150)
    for method, style in (("uncertainty", "-"), ("random", "--")):
        part = curves[curves["method"] == method]
        grouped = part.groupby("labels")["accuracy"]
        mean, std = grouped.mean(), grouped.std(ddof=0).fillna(0.0)
        label = f"{result.config.rule} uncertainty" if method == "uncertainty" else "random"
        colour = "tab:blue" if method == "uncertainty" else "black"
        ax.plot(mean.index, mean.values, style, color=colour, label=label)
        ax.fill_between(mean.index, mean - std, mean + std, color=colour, alpha=0.15)
    config = result.config
    ax.set_xlabel("labels asked")
    ax.set_ylabel("test accuracy")
    ax.set_title(
        f"stream on {config.dataset}: budget {config.budget:g}, window {config.window}, "
        f"{config.seeds} seeds"
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
