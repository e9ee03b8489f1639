"""Multi-label strategies against slow, literal implementations of their papers' formulas."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.errors import InvalidInputError
from labelwise.strategies import (
    PoolInputs,
    adaptive,
    binary_relevance_uncertainty,
    get_strategy,
    label_cardinality_inconsistency,
    max_margin_uncertainty,
    mmc,
)

SEEDS = range(5)


def _pool(seed: int, n: int = 30, q: int = 5, n_labeled: int = 8):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, q)), rng.integers(0, 2, size=(n_labeled, q))


def _ref_margin(p: np.ndarray, aggregate: str) -> list[float]:
    out = []
    for row in p:
        margins = [abs(v - (1 - v)) for v in row]  # |P(label) - P(not label)|
        agg = {"mean": sum(margins) / len(margins), "min": min(margins), "max": max(margins)}
        out.append(1 - agg[aggregate])
    return out


def _ref_mmc(p: np.ndarray) -> list[float]:
    out = []
    for row in p:
        k = max(1, sum(1 for v in row if v >= 0.5))
        order = sorted(range(len(row)), key=lambda q: -row[q])
        sign = {q: (1 if rank < k else -1) for rank, q in enumerate(order)}
        out.append(sum((1 - sign[q] * (2 * row[q] - 1)) / 2 for q in range(len(row))))
    return out


def _ref_lci(p: np.ndarray, sets: np.ndarray) -> list[float]:
    mean = sum(sum(r) for r in sets) / len(sets)
    return [abs(sum(1 for v in row if v >= 0.5) - mean) for row in p]


def _ref_max_margin(p: np.ndarray) -> list[float]:
    out = []
    for row in p:
        f = [2 * v - 1 for v in row]
        pos = [f[q] for q in range(len(row)) if row[q] >= 0.5] or [0.0]
        neg = [f[q] for q in range(len(row)) if row[q] < 0.5] or [0.0]
        out.append(1 / max(min(pos) - max(neg), 1e-12))
    return out


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("aggregate", ["mean", "min", "max"])
def test_binary_relevance_margins_match_the_literal_loop(seed: int, aggregate: str) -> None:
    p, _ = _pool(seed)
    np.testing.assert_allclose(
        binary_relevance_uncertainty(p, aggregate),
        _ref_margin(p, aggregate),
        atol=1e-12,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("aggregate", ["mean", "min", "max"])
def test_margin_strategies_pick_the_top_scores(aggregate: str) -> None:
    p, _ = _pool(7)
    sel = get_strategy(f"multilabel_{aggregate}_margin").select(PoolInputs(label_proba=p), 4)
    expected = np.argsort(-np.asarray(_ref_margin(p, aggregate)), kind="stable")[:4]
    np.testing.assert_array_equal(sel.indices, expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_mmc_matches_yang_et_al(seed: int) -> None:
    p, _ = _pool(seed)
    np.testing.assert_allclose(mmc(p), _ref_mmc(p), atol=1e-12)


def test_mmc_takes_a_label_count_per_item() -> None:
    p = np.array([[0.9, 0.8, 0.1]])
    # two labels predicted: y = (+1, +1, -1) -> (0.1 + 0.2 + 0.1)
    assert mmc(p, np.array([2])).tolist() == pytest.approx([0.4])
    with pytest.raises(InvalidInputError, match="n_labels"):
        mmc(p, np.array([0]))


@pytest.mark.parametrize("seed", SEEDS)
def test_label_cardinality_inconsistency_matches_li_and_guo(seed: int) -> None:
    p, sets = _pool(seed)
    np.testing.assert_allclose(label_cardinality_inconsistency(p, sets), _ref_lci(p, sets))


@pytest.mark.parametrize("seed", SEEDS)
def test_max_margin_uncertainty_matches_li_and_guo(seed: int) -> None:
    p, _ = _pool(seed)
    np.testing.assert_allclose(max_margin_uncertainty(p), _ref_max_margin(p), rtol=1e-12)


def test_max_margin_uses_the_threshold_when_no_label_is_predicted() -> None:
    assert max_margin_uncertainty([[0.25, 0.1]]).tolist() == pytest.approx([1 / 0.5])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0])
def test_adaptive_matches_li_and_guo(seed: int, beta: float) -> None:
    p, sets = _pool(seed)
    expected = [
        u**beta * c ** (1 - beta)
        for u, c in zip(_ref_max_margin(p), _ref_lci(p, sets), strict=True)
    ]
    np.testing.assert_allclose(adaptive(p, sets, beta), expected, rtol=1e-12)
    sel = get_strategy("multilabel_adaptive", beta=beta).select(
        PoolInputs(label_proba=p, labeled_label_sets=sets), 3
    )
    np.testing.assert_array_equal(sel.indices, np.argsort(-np.asarray(expected), kind="stable")[:3])


def test_label_probabilities_outside_zero_one_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="sigmoid"):
        get_strategy("mmc").select(PoolInputs(label_proba=np.array([[0.2, 1.5]] * 3)), 1)


def test_label_sets_must_be_zero_one_and_as_wide_as_the_marginals() -> None:
    p, sets = _pool(0)
    with pytest.raises(InvalidInputError, match="only 0 and 1"):
        label_cardinality_inconsistency(p, sets * 2)
    with pytest.raises(InvalidInputError, match="labeled_label_sets has 4 labels"):
        get_strategy("label_cardinality").select(
            PoolInputs(label_proba=p, labeled_label_sets=sets[:, :4]), 2
        )


def test_bad_options_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="aggregate"):
        binary_relevance_uncertainty([[0.5]], "median")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="beta"):
        get_strategy("multilabel_adaptive", beta=2.0)
