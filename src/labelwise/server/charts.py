"""The dashboard's plot: the learning curve so far, as PNG bytes (matplotlib, Agg backend)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from labelwise.controller.report import CurvePoint

__all__ = ["learning_curve_png"]


def learning_curve_png(curve: Sequence[CurvePoint], title: str) -> bytes:
    """Eval accuracy and between-round kappa against labels, one point per round."""
    from matplotlib.figure import Figure

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
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if shown or stable:
        axes.legend(loc="lower right")
    else:
        axes.text(0.5, 0.5, "no model yet", ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
