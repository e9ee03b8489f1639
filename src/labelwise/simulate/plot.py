"""The learning-curve figure: mean accuracy over seeds with a band, random as the baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelwise.errors import InvalidInputError
from labelwise.simulate.curves import mean_curve


def plot_learning_curves(
    rounds: pd.DataFrame,
    path: str | Path,
    *,
    title: str = "",
    full_data_accuracy: float | None = None,
    targets: tuple[float, ...] = (),
    references: dict[str, list[tuple[float, float]]] | None = None,
    reference_label: str = "published",
    ylim: tuple[float, float] | None = None,
) -> Path:
    """Write a PNG of test accuracy against labels, one line per strategy.

    Each line is the mean over seeds, the band one standard deviation either side; random is
    drawn in black, dashed, as the baseline. Dotted lines mark the target fractions of the
    full-data accuracy. ``references`` marks published points (labels, accuracy) per strategy
    as open circles in the strategy's colour (a paper's table beside the measured curves).
    """
    references = references or {}
    unknown = sorted(set(references) - set(rounds["strategy"]))
    if unknown:
        raise InvalidInputError(f"references name strategies with no curve: {unknown}")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.6), dpi=200)
    palette = plt.get_cmap("tab10")
    names = list(dict.fromkeys(rounds["strategy"]))
    colour_index = 0
    for name in names:
        part = rounds[rounds["strategy"] == name]
        n_seeds = part["seed"].nunique()
        grid, mean, std = mean_curve(
            part["n_labels"].to_numpy(np.float64), part["accuracy"].to_numpy(np.float64)
        )
        label = f"{name} (n={n_seeds})"
        if name == "random":
            colour: Any = "black"
            ax.plot(grid, mean, "--", color=colour, lw=1.6, zorder=3, label=label)
        else:
            colour = palette(colour_index % 10)
            colour_index += 1
            ax.plot(grid, mean, color=colour, lw=1.6, zorder=2, label=label)
        ax.fill_between(grid, mean - std, mean + std, color=colour, alpha=0.15, lw=0)
        for x, y in references.get(name, []):
            ax.plot(x, y, "o", mfc="none", mec=colour, mew=1.4, ms=7, zorder=4)
    if references:
        ax.plot([], [], "o", mfc="none", mec="grey", mew=1.4, ms=7, label=reference_label)
    if full_data_accuracy is not None and np.isfinite(full_data_accuracy):
        ax.axhline(full_data_accuracy, color="grey", linewidth=1.0, label="full data")
        for t in targets:
            ax.axhline(t * full_data_accuracy, color="grey", linewidth=0.7, linestyle=":")
            ax.annotate(
                f"{t:.0%}",
                (ax.get_xlim()[1], t * full_data_accuracy),
                fontsize=7,
                color="grey",
                ha="right",
                va="bottom",
            )
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("labeled examples")
    ax.set_ylabel("test accuracy")
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
