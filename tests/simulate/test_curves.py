"""The report maths against hand-computed values and slow, literal references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.simulate.curves import (
    bootstrap_ratio,
    curve_area,
    labels_to_target,
    mean_and_spread,
    ratio_of_means,
)


def test_labels_to_target_is_the_first_count_reaching_the_target() -> None:
    n = [20, 30, 40, 50, 60]
    acc = [0.50, 0.80, 0.78, 0.91, 0.95]
    assert labels_to_target(n, acc, 0.80) == 30  # reached at 30, lost at 40: still 30
    assert labels_to_target(n, acc, 0.90) == 50
    assert labels_to_target(n, acc, 0.95) == 60  # equality counts as reached


def test_labels_to_target_is_nan_when_never_reached() -> None:
    assert math.isnan(labels_to_target([20, 30], [0.5, 0.6], 0.7))


def test_labels_to_target_does_not_depend_on_row_order() -> None:
    assert labels_to_target([40, 20, 30], [0.9, 0.1, 0.8], 0.75) == 30


def test_curve_area_by_hand() -> None:
    # trapezoids: (10 * (0.5 + 0.7) / 2) + (20 * (0.7 + 0.9) / 2) = 6 + 16 = 22 over 30 labels
    assert curve_area([10, 20, 40], [0.5, 0.7, 0.9]) == pytest.approx(22 / 30)


def test_a_flat_curve_has_its_own_height_as_area() -> None:
    assert curve_area([20, 30, 50, 90], [0.8] * 4) == pytest.approx(0.8)


def test_ratio_of_means_by_hand_and_nan_for_a_target_not_reached() -> None:
    assert ratio_of_means([60, 80], [100, 180]) == pytest.approx(140 / 280)
    assert math.isnan(ratio_of_means([60, float("nan")], [100, 180]))


def test_bootstrap_of_two_seeds_matches_the_enumerated_distribution() -> None:
    # With two seeds, a replicate is one of four equally likely pairs of seeds; the percentile
    # interval of many replicates must lie within the smallest and largest of those ratios.
    values, base = np.array([50.0, 90.0]), np.array([100.0, 120.0])
    exact = sorted(
        values[list(pick)].mean() / base[list(pick)].mean()
        for pick in itertools.product(range(2), repeat=2)
    )  # [0.5, 140/220, 140/220, 0.75]
    ratio, low, high = bootstrap_ratio(values, base, np.random.default_rng(0), n_boot=4000)
    assert ratio == pytest.approx(140 / 220)
    assert low == pytest.approx(exact[0]) and high == pytest.approx(exact[-1])


def test_bootstrap_of_equal_labels_is_exactly_one() -> None:
    v = np.array([100.0, 130.0, 90.0])
    assert bootstrap_ratio(v, v, np.random.default_rng(1)) == (1.0, 1.0, 1.0)


def _literal_percentile_bootstrap(v, b, rng, n_boot, level):  # type: ignore[no-untyped-def]
    ratios = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(v), size=len(v))
        ratios.append(sum(v[i] for i in pick) / sum(b[i] for i in pick))
    ratios.sort()
    tail = (1 - level) / 2 * 100
    return np.percentile(ratios, [tail, 100 - tail])


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(10, 500), st.integers(10, 500)), min_size=2, max_size=12),
    st.integers(0, 2**16),
)
def test_bootstrap_matches_a_literal_loop(pairs: list[tuple[int, int]], seed: int) -> None:
    v = np.array([p[0] for p in pairs], dtype=float)
    b = np.array([p[1] for p in pairs], dtype=float)
    _, low, high = bootstrap_ratio(v, b, np.random.default_rng(seed), n_boot=300)
    # the same draws, in a loop: rng.integers(0, n, (B, n)) row by row equals B calls of size n
    ref = _literal_percentile_bootstrap(v, b, np.random.default_rng(seed), 300, 0.95)
    assert low == pytest.approx(ref[0]) and high == pytest.approx(ref[1])
    assert low <= high


def test_mean_and_spread_skip_nan_and_count_the_rest() -> None:
    mean, spread, n = mean_and_spread([1.0, 3.0, float("nan")])
    assert (mean, n) == (2.0, 2) and spread == pytest.approx(math.sqrt(2))
