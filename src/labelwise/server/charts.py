"""The dashboard's plots as PNG bytes (matplotlib's Figure, no pyplot state): the learning curve
so far and the class balance of the labeled set."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from labelwise.controller.report import CurvePoint

__all__ = ["class_balance_png", "learning_curve_png"]


def learning_curve_png(curve: Sequence[CurvePoint], title: str) -> bytes:
    """Eval accuracy and between-round kappa against labels, one point per round.

    The labels axis starts at 0 and shows whole numbers, so a curve of one or two rounds
    reads as the start of a curve.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(6, 3.4), dpi=100)
    axes = figure.subplots()
    shown = [p for p in curve if p.eval_accuracy is not None]
    axes.plot(
        [p.n_labeled for p in shown],
        [float(p.eval_accuracy or 0.0) for p in shown],
        "o-",
        label="eval accuracy",
    )
    stable = [p for p in curve if p.kappa is not None]
    axes.plot(
        [p.n_labeled for p in stable],
        [float(p.kappa or 0.0) for p in stable],
        "s--",
        label="kappa (stop set)",
    )
    axes.set_xlabel("labels")
    axes.set_ylim(0, 1.02)
    axes.set_xlim(left=0, right=max([p.n_labeled for p in curve] + [1]) * 1.05)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if shown or stable:
        axes.legend(loc="lower right")
    else:
        axes.text(0.5, 0.5, "no model yet", ha="center", va="center", transform=axes.transAxes)
    return _png(figure)


def class_balance_png(balance: Mapping[str, int], title: str) -> bytes:
    """Labeled samples per class, one bar per label of the label space (in its order).

    Parameters
    ----------
    balance : mapping of str to int
        The count of each class, as the dashboard's ``class_balance`` gives it.
    title : str
        Shown above the bars.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.4), dpi=100)
    axes = figure.subplots()
    labels = list(balance)
    counts = [int(balance[label]) for label in labels]
    bars = axes.bar(range(len(labels)), counts, color="#4c72b0")
    axes.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0)
    axes.bar_label(bars, labels=[str(n) for n in counts], padding=2)
    axes.set_ylabel("labeled samples")
    axes.set_ylim(0, max([*counts, 1]) * 1.15)
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    if not any(counts):
        axes.text(0.5, 0.5, "no labels yet", ha="center", va="center", transform=axes.transAxes)
    return _png(figure)


def _png(figure: Any) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
