"""Regression strategies against slow, literal implementations of their papers' formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labelwise.errors import InvalidInputError
from labelwise.strategies import (
    PoolInputs,
    committee_variance,
    emcm,
    get_strategy,
    gp_std,
    greedy_sampling_x,
    greedy_sampling_y,
    improved_greedy_sampling,
    predictive_variance,
)

SEEDS = range(5)


def _pool(seed: int, n: int = 40, n_labeled: int = 6, d: int = 3, k: int = 5):
    rng = np.random.default_rng(seed)
    samples = rng.normal(size=(k, n))
    return {
        "x": rng.normal(size=(n, d)),
        "lab": rng.normal(size=(n_labeled, d)),
        "f": samples.mean(axis=0) + rng.normal(scale=0.1, size=n),
        "y": rng.normal(size=n_labeled),
        "samples": samples,
    }


def _ref_variance(samples: np.ndarray) -> list[float]:
    k, n = samples.shape
    out = []
    for i in range(n):
        mean = sum(samples[m, i] for m in range(k)) / k
        out.append(sum((samples[m, i] - mean) ** 2 for m in range(k)) / k)
    return out


def _ref_emcm(f: np.ndarray, committee: np.ndarray, x: np.ndarray, intercept: bool) -> list[float]:
    out = []
    for i in range(len(f)):
        features = list(x[i]) + ([1.0] if intercept else [])
        total = 0.0
        for m in range(committee.shape[0]):
            gradient = [(f[i] - committee[m, i]) * v for v in features]
            total += math.sqrt(sum(g * g for g in gradient))
        out.append(total / committee.shape[0])
    return out


def _ref_greedy(pool: dict, kind: str, batch: int, exclude: set[int], labeled: bool) -> list[int]:
    """Wu, Lin & Huang 2019, Algorithms 1-3, one pick at a time, picks joining the labeled set
    with their prediction as label; first pick without labels: nearest the centroid."""
    x, f = pool["x"], pool["f"]
    known_x = [list(r) for r in pool["lab"]] if labeled else []
    known_y = list(pool["y"]) if labeled else []
    picks: list[int] = []
    for _ in range(batch):
        candidates = [i for i in range(len(f)) if i not in exclude and i not in picks]
        if not known_y:
            space = (
                [[f[i]] for i in candidates] if kind == "y" else [list(x[i]) for i in candidates]
            )
            centre = [sum(col) / len(space) for col in zip(*space, strict=True)]
            dist = [sum((a - b) ** 2 for a, b in zip(p, centre, strict=True)) for p in space]
            best = candidates[dist.index(min(dist))]
        else:
            best, best_score = -1, -1.0
            for i in candidates:
                scores = []
                for xm, ym in zip(known_x, known_y, strict=True):
                    dx = math.dist(x[i], xm)
                    dy = abs(f[i] - ym)
                    scores.append({"x": dx, "y": dy, "xy": dx * dy}[kind])
                if min(scores) > best_score:
                    best, best_score = i, min(scores)
        picks.append(best)
        known_x.append(list(x[best]))
        known_y.append(f[best])
    return picks


@pytest.mark.parametrize("seed", SEEDS)
def test_predictive_variance_is_the_variance_over_samples(seed: int) -> None:
    samples = _pool(seed)["samples"]
    np.testing.assert_allclose(predictive_variance(samples), _ref_variance(samples), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_committee_variance_is_the_variance_over_members(seed: int) -> None:
    members = _pool(seed)["samples"][:3]
    np.testing.assert_allclose(committee_variance(members), _ref_variance(members), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("intercept", [True, False])
def test_emcm_matches_the_literal_gradient_norms(seed: int, intercept: bool) -> None:
    p = _pool(seed)
    expected = _ref_emcm(p["f"], p["samples"], p["x"], intercept)
    np.testing.assert_allclose(emcm(p["f"], p["samples"], p["x"], intercept), expected, rtol=1e-12)


def test_emcm_strategy_picks_the_top_scores() -> None:
    p = _pool(0)
    inputs = PoolInputs(pred_mean=p["f"], pred_committee=p["samples"], embeddings=p["x"])
    sel = get_strategy("emcm").select(inputs, 5, rng=0)
    expected = np.argsort(-emcm(p["f"], p["samples"], p["x"]), kind="stable")[:5]
    np.testing.assert_array_equal(sel.indices, expected)


def test_gp_std_scores_by_the_standard_deviation_and_refuses_negative_ones() -> None:
    std = np.array([0.1, 2.0, 0.5])
    np.testing.assert_array_equal(gp_std(std), std)
    assert get_strategy("gp_std").select(PoolInputs(pred_std=std), 1).indices.tolist() == [1]
    with pytest.raises(InvalidInputError, match="non-negative"):
        gp_std([0.1, -0.2])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("labeled", [True, False])
def test_gsx_matches_wu_et_al(seed: int, labeled: bool) -> None:
    p = _pool(seed)
    exclude = {1, 7, 8}
    idx, _ = greedy_sampling_x(p["x"], p["lab"] if labeled else None, 6, sorted(exclude))
    assert idx.tolist() == _ref_greedy(p, "x", 6, exclude, labeled)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("labeled", [True, False])
def test_gsy_matches_wu_et_al(seed: int, labeled: bool) -> None:
    p = _pool(seed)
    exclude = {0, 3}
    targets = p["y"] if labeled else np.empty(0)
    idx, _ = greedy_sampling_y(p["f"], targets, 6, sorted(exclude))
    assert idx.tolist() == _ref_greedy(p, "y", 6, exclude, labeled)


@pytest.mark.parametrize("seed", SEEDS)
def test_igs_matches_wu_et_al(seed: int) -> None:
    p = _pool(seed)
    exclude = {2, 5, 11}
    idx, scores = improved_greedy_sampling(p["x"], p["lab"], p["f"], p["y"], 6, sorted(exclude))
    assert idx.tolist() == _ref_greedy(p, "xy", 6, exclude, True)
    first = idx[0]
    expected = min(
        math.dist(p["x"][first], xm) * abs(p["f"][first] - ym)
        for xm, ym in zip(p["lab"], p["y"], strict=True)
    )
    assert scores[0] == pytest.approx(expected)


@pytest.mark.parametrize("name", ["gsx", "gsy", "igs"])
def test_greedy_strategies_agree_with_their_functions(name: str) -> None:
    p = _pool(3)
    inputs = PoolInputs(
        embeddings=p["x"],
        labeled_embeddings=p["lab"],
        pred_mean=p["f"],
        labeled_targets=p["y"],
        exclude=np.array([4, 9]),
    )
    kind = {"gsx": "x", "gsy": "y", "igs": "xy"}[name]
    sel = get_strategy(name).select(inputs, 5, rng=0)
    assert sel.indices.tolist() == _ref_greedy(p, kind, 5, {4, 9}, True)


def test_labeled_targets_must_match_the_labeled_embeddings() -> None:
    p = _pool(0)
    inputs = PoolInputs(
        embeddings=p["x"], labeled_embeddings=p["lab"], pred_mean=p["f"], labeled_targets=[1.0]
    )
    with pytest.raises(InvalidInputError, match="labeled_targets has 1 values"):
        get_strategy("igs").select(inputs, 2, rng=0)


def test_prediction_samples_must_be_two_dimensional() -> None:
    with pytest.raises(InvalidInputError, match="pred_samples must be 2-dimensional"):
        predictive_variance([1.0, 2.0])


def test_pool_size_is_read_off_the_samples_pool_axis() -> None:
    inputs = PoolInputs(pred_samples=np.zeros((4, 9)), labeled_targets=np.zeros(3))
    assert inputs.n_pool == 9
