"""The learning-curve figure: a real PNG, published points marked, bad references refused."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest

from labelwise.errors import InvalidInputError
from labelwise.simulate.plot import plot_learning_curves


def rounds() -> pd.DataFrame:
    rows = [
        {"strategy": s, "seed": seed, "n_labels": n, "accuracy": base + 0.001 * n + 0.01 * seed}
        for s, base in (("bald", 0.5), ("random", 0.4))
        for seed in (0, 1)
        for n in (20, 30, 40, 50)
    ]
    return pd.DataFrame(rows)


def test_the_figure_is_a_png_with_references_marked(tmp_path: Path) -> None:
    path = plot_learning_curves(
        rounds(), tmp_path / "curves.png", references={"bald": [(45.0, 0.55)]}, ylim=(0.3, 0.7)
    )
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 400 and image.shape[1] > 600
    plain = matplotlib.image.imread(plot_learning_curves(rounds(), tmp_path / "plain.png"))
    assert image.shape == plain.shape and (image != plain).any()


def test_a_reference_for_a_strategy_without_a_curve_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no curve: \\['badge'\\]"):
        plot_learning_curves(rounds(), tmp_path / "x.png", references={"badge": [(30.0, 0.5)]})
    assert not (tmp_path / "x.png").exists()
