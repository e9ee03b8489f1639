"""Set-valued annotations: MASI/Jaccard alpha, per-label majority and Dawid-Skene."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from labelwise.errors import InvalidInputError
from labelwise.quality import krippendorff_alpha
from labelwise.quality.label_sets import (
    jaccard_distance,
    label_set_alpha,
    masi_distance,
    per_label_dawid_skene,
    per_label_majority,
)


def _random_table(seed: int, n_items: int = 12, q: int = 4):
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(n_items), rng.integers(1, 5, size=n_items))
    truth = rng.integers(0, 2, size=(n_items, q))
    flips = rng.uniform(size=(items.size, q)) < 0.2
    return items, np.where(flips, 1 - truth[items], truth[items])


def _ref_alpha(items: np.ndarray, sets: np.ndarray, fn) -> float:
    """Krippendorff (2011) from pairs: D_o over pairs within items weighted 1/(m_u - 1),
    D_e over all pairs of pairable values."""
    units = [np.flatnonzero(items == u) for u in np.unique(items)]
    units = [u for u in units if u.size >= 2]
    values = [i for u in units for i in u]
    n = len(values)
    d_o = (
        sum(
            fn(sets[i], sets[j]) / (u.size - 1)
            for u in units
            for i, j in itertools.permutations(u, 2)
        )
        / n
    )
    d_e = sum(fn(sets[i], sets[j]) for i, j in itertools.permutations(values, 2)) / (n * (n - 1))
    return 1 - d_o / d_e


def test_masi_follows_passonneau() -> None:
    assert masi_distance([1, 0, 0], [1, 0, 0]) == 0.0
    assert masi_distance([1, 1, 0], [1, 0, 0]) == pytest.approx(1 - 0.5 * 2 / 3)  # subset
    assert masi_distance([1, 1, 0], [0, 1, 1]) == pytest.approx(1 - (1 / 3) * (1 / 3))  # overlap
    assert masi_distance([1, 0, 0], [0, 1, 0]) == 1.0  # disjoint
    assert jaccard_distance([1, 1, 0], [0, 1, 1]) == pytest.approx(2 / 3)
    assert jaccard_distance([0, 0], [0, 0]) == 0.0


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("distance", ["masi", "jaccard"])
def test_set_alpha_matches_the_pairwise_definition(seed: int, distance: str) -> None:
    items, sets = _random_table(seed)
    fn = masi_distance if distance == "masi" else jaccard_distance
    expected = _ref_alpha(items, sets, fn)
    assert label_set_alpha(items, sets, distance) == pytest.approx(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(4))
def test_singleton_sets_give_nominal_alpha(seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = rng.integers(0, 3, size=(3, 15)).astype(float)
    matrix[rng.uniform(size=matrix.shape) < 0.2] = np.nan
    coders, units = np.nonzero(~np.isnan(matrix))
    sets = np.eye(3, dtype=int)[matrix[coders, units].astype(int)]
    expected = krippendorff_alpha(matrix, "nominal")
    assert label_set_alpha(units, sets, "jaccard") == pytest.approx(expected)
    assert label_set_alpha(units, sets, "masi") == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(4))
def test_per_label_majority_matches_a_loop(seed: int) -> None:
    items, sets = _random_table(seed)
    got = per_label_majority(items, sets)
    for i in np.unique(items):
        share = sets[items == i].mean(axis=0)
        np.testing.assert_array_equal(got[i], (share > 0.5).astype(int))
    ties = per_label_majority(items, sets, ties="present")
    assert (ties >= got).all()


def test_dawid_skene_per_label_trusts_the_reliable_annotator() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, size=(60, 3))
    items = np.repeat(np.arange(60), 3)
    annotators = np.tile([0, 1, 2], 60)
    answers = truth[items].copy()
    noisy = annotators > 0
    flip = rng.uniform(size=answers.shape) < 0.3
    answers[noisy] = np.where(flip[noisy], 1 - answers[noisy], answers[noisy])
    labels, posterior = per_label_dawid_skene(items, annotators, answers)
    assert posterior.shape == (60, 3) and ((posterior >= 0) & (posterior <= 1)).all()
    assert (labels == truth).mean() > (per_label_majority(items, answers) == truth).mean() - 0.02
    assert (labels == truth).mean() > 0.95


def test_bad_tables_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="only 0 and 1"):
        label_set_alpha([0, 0], [[0, 2], [1, 0]])
    with pytest.raises(InvalidInputError, match="two or more answers"):
        label_set_alpha([0, 1], [[0, 1], [1, 0]])
    with pytest.raises(InvalidInputError, match="one row per annotation"):
        per_label_majority([0, 1, 2], [[0, 1], [1, 0]])
