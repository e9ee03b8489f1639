"""Numeric annotations: median/mean aggregation, interval alpha, answer bounds."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.errors import InvalidInputError
from labelwise.quality.numeric import aggregate_numbers, check_numeric_answer, numeric_alpha

#: Krippendorff (2011), 4 coders x 12 units; interval alpha 0.849 in the paper.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ]
)


def _long_table(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coders, units = np.nonzero(~np.isnan(matrix))
    return units, coders, matrix[coders, units]


def test_numeric_alpha_gives_krippendorffs_interval_value() -> None:
    items, annotators, values = _long_table(KRIPPENDORFF_2011)
    assert numeric_alpha(items, annotators, values) == pytest.approx(0.849, abs=5e-4)


@pytest.mark.parametrize("seed", range(5))
def test_median_and_mean_match_a_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    items = rng.integers(0, 6, size=40)
    items[:6] = np.arange(6)  # every item answered
    values = rng.normal(size=40)
    median = aggregate_numbers(items, values, "median")
    mean = aggregate_numbers(items, values, "mean")
    for i in range(6):
        np.testing.assert_allclose(median[i], np.median(values[items == i]))
        np.testing.assert_allclose(mean[i], np.mean(values[items == i]))


def test_an_unanswered_item_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="item 1 has no answer"):
        aggregate_numbers([0, 2], [1.0, 2.0])


@pytest.mark.parametrize(
    ("value", "match"),
    [(-1.0, "below the minimum 0"), (11.0, "above the maximum 10"), (1.2, "step 0.5")],
)
def test_answers_outside_the_projects_bounds_are_refused(value: float, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        check_numeric_answer(value, 0.0, 10.0, 0.5)


def test_answers_on_the_step_are_accepted() -> None:
    assert check_numeric_answer(1.5, 0.0, 10.0, 0.5) == 1.5
    assert check_numeric_answer(0.3, 0.1, None, 0.1) == pytest.approx(0.3)
