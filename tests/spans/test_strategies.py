"""Sequence scores against slow, literal references on random inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from labelwise.errors import InvalidInputError
from labelwise.spans.strategies import (
    WindowChoice,
    check_marginals,
    independent_path_log_proba,
    least_confidence_path,
    mnlp,
    sequence_bald,
    token_entropy,
    uncertain_windows,
)


def random_marginals(rng: np.random.Generator, n: int, k: int, max_t: int) -> list[np.ndarray]:
    return [rng.dirichlet(np.full(k, 0.5), size=int(rng.integers(0, max_t + 1))) for _ in range(n)]


def literal_entropy(row: np.ndarray) -> float:
    return -sum(p * math.log(p) for p in row if p > 0)


@pytest.mark.parametrize("seed", range(5))
def test_independent_best_path_matches_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    marginals = random_marginals(rng, 6, k=3, max_t=4)
    got = independent_path_log_proba(marginals)
    for m, lp in zip(marginals, got, strict=True):
        best = max(
            (
                math.prod(m[t, y] for t, y in enumerate(path))
                for path in itertools.product(range(3), repeat=m.shape[0])
            ),
            default=1.0,
        )
        assert lp == pytest.approx(math.log(best), abs=1e-12)
        assert least_confidence_path([lp])[0] == pytest.approx(1 - best, abs=1e-12)
        expected_mnlp = -math.log(best) / m.shape[0] if m.shape[0] else 0.0
        assert mnlp([lp], [m.shape[0]])[0] == pytest.approx(expected_mnlp, abs=1e-12)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_token_entropy_matches_literal_loops(reduce: str) -> None:
    rng = np.random.default_rng(1)
    marginals = random_marginals(rng, 20, k=5, max_t=7)
    marginals[0] = np.array([[1.0, 0, 0, 0, 0]])  # 0 log 0 = 0
    got = token_entropy(marginals, reduce)  # type: ignore[arg-type]
    for m, score in zip(marginals, got, strict=True):
        h = [literal_entropy(row) for row in m]
        expected = {
            "sum": sum(h),
            "mean": sum(h) / len(h) if h else 0.0,
            "max": max(h, default=0.0),
        }[reduce]
        assert score == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_sequence_bald_matches_the_formula(reduce: str) -> None:
    rng = np.random.default_rng(2)
    samples = [rng.dirichlet(np.ones(4), size=(6, int(rng.integers(0, 5)))) for _ in range(10)]
    got = sequence_bald(samples, reduce)  # type: ignore[arg-type]
    for s, score in zip(samples, got, strict=True):
        per_token = []
        for t in range(s.shape[1]):
            mean = [sum(s[j, t, k] for j in range(6)) / 6 for k in range(4)]
            per_token.append(
                literal_entropy(np.array(mean))
                - sum(literal_entropy(s[j, t]) for j in range(6)) / 6
            )
        expected = {
            "sum": sum(per_token),
            "mean": np.mean(per_token) if per_token else 0.0,
            "max": max(per_token, default=0.0),
        }[reduce]
        assert score == pytest.approx(expected, abs=1e-12)


def test_bald_is_zero_when_samples_agree() -> None:
    m = np.random.default_rng(3).dirichlet(np.ones(3), size=5)
    assert sequence_bald([np.stack([m] * 4)])[0] == pytest.approx(0.0, abs=1e-12)


def test_mnlp_removes_length_where_least_confidence_keeps_it() -> None:
    token = np.array([[0.9, 0.1]])
    short, long = np.repeat(token, 2, axis=0), np.repeat(token, 20, axis=0)
    lp = independent_path_log_proba([short, long])
    assert least_confidence_path(lp)[1] > least_confidence_path(lp)[0]
    assert mnlp(lp, [2, 20]) == pytest.approx([-math.log(0.9)] * 2)


def _reference_windows(
    marginals: list[np.ndarray], n: int, window: int, stride: int
) -> list[WindowChoice]:
    cands = []
    for d, m in enumerate(marginals):
        h = [literal_entropy(r) for r in m]
        starts = sorted({*range(0, max(len(h) - window, 0) + 1, stride), max(len(h) - window, 0)})
        for s in starts if h else []:
            cands.append(WindowChoice(d, s, min(s + window, len(h)), sum(h[s : s + window])))
    chosen: list[WindowChoice] = []
    for c in sorted(cands, key=lambda c: (-c.score, c.document, c.start)):
        clash = any(
            o.document == c.document and not (c.end <= o.start or o.end <= c.start) for o in chosen
        )
        if not clash and len(chosen) < n:
            chosen.append(c)
    return chosen


@pytest.mark.parametrize("seed", range(5))
def test_uncertain_windows_match_a_literal_greedy_choice(seed: int) -> None:
    rng = np.random.default_rng(seed)
    marginals = random_marginals(rng, 4, k=3, max_t=30)
    got = uncertain_windows(marginals, 5, window=6, stride=3)
    expected = _reference_windows(marginals, 5, 6, 3)
    assert [(c.document, c.start, c.end) for c in got] == [
        (c.document, c.start, c.end) for c in expected
    ]
    np.testing.assert_allclose([c.score for c in got], [c.score for c in expected])


def test_windows_find_the_doubtful_stretch_of_a_long_document() -> None:
    sure = np.tile([[1.0, 0.0]], (100, 1))
    sure[40:44] = 0.5
    (choice,) = uncertain_windows([sure], 1, window=8, stride=4)
    assert choice.start <= 40 and choice.end >= 44


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([np.array([[0.5, 0.6]])], "sum to 1"),
        ([np.array([[np.nan, 1.0]])], "NaN"),
        ([np.array([0.5, 0.5])], "2 dimensions"),
        (np.ones((2, 3, 2)) / 2, "list of per-sequence arrays"),
    ],
)
def test_bad_marginals_are_refused_with_the_reason(bad: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_marginals(bad)  # type: ignore[arg-type]


def test_path_log_proba_above_zero_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="log-probabilities"):
        least_confidence_path([0.5])
