"""BatchBALD against literal enumeration of every label configuration and brute-force greedy."""

from __future__ import annotations

import importlib
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import BatchSizeError, InvalidInputError
from labelwise.strategies import (
    PoolInputs,
    bald,
    batch_mutual_information,
    batchbald,
    get_strategy,
    top_k,
)
from labelwise.strategies.batchbald import (
    JointConfigurations,
    MarginalGains,
    greedy_batchbald,
    merge_posteriors,
)
from labelwise.strategies.bayesian import expected_entropy


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def random_samples(k: int, n: int, c: int, seed: int, scale: float = 2.0) -> np.ndarray:
    return softmax(np.random.default_rng(seed).normal(size=(k, n, c)) * scale)


def ref_entropy(row: list[float]) -> float:
    return -sum(p * math.log(p) for p in row if p > 0)


def ref_joint_mi(samples: np.ndarray, batch: list[int]) -> float:
    """I(y_batch; w) by enumerating all C^b configurations of the mixture of K products."""
    k, _, c = samples.shape
    h_joint = 0.0
    for config in itertools.product(range(c), repeat=len(batch)):
        p = 0.0
        for j in range(k):
            prod = 1.0
            for item, label in zip(batch, config, strict=True):
                prod *= samples[j, item, label]
            p += prod / k
        if p > 0:
            h_joint -= p * math.log(p)
    conditional = sum(
        sum(ref_entropy(samples[j, item].tolist()) for j in range(k)) / k for item in batch
    )
    return h_joint - conditional


def ref_greedy(samples: np.ndarray, batch_size: int) -> list[int]:
    """Greedy by brute force: add the item whose batch has the largest joint MI (lowest index)."""
    chosen: list[int] = []
    for _ in range(batch_size):
        values = [
            ref_joint_mi(samples, [*chosen, i]) if i not in chosen else -np.inf
            for i in range(samples.shape[1])
        ]
        chosen.append(int(np.argmax(values)))
    return chosen


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("n", "batch_size"), [(5, 2), (6, 3)])
def test_greedy_equals_brute_force_greedy(seed: int, n: int, batch_size: int) -> None:
    samples = random_samples(4, n, 3, seed)
    indices = batchbald(samples, batch_size)
    assert indices.tolist() == ref_greedy(samples, batch_size)


#: Bound on the merging error in the tests: 6x the worst of 3,000 random batches (3.2e-6 nats).
MERGE_ERROR = 2e-5


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(2, 6),
    st.integers(2, 3),
    st.integers(1, 3),
    st.integers(0, 2**32 - 1),
    st.floats(0.1, 6.0),
)
def test_each_pick_is_a_greedy_optimum(
    k: int, n: int, c: int, batch_size: int, seed: int, scale: float
) -> None:
    """Robust to ties: every pick reaches the largest joint MI any candidate reaches."""
    samples = random_samples(k, n, c, seed, scale)
    batch_size = min(batch_size, n)
    indices, gains = greedy_batchbald(
        samples, batch_size, np.random.default_rng(0), np.zeros(n, bool)
    )
    assert len(set(indices.tolist())) == batch_size
    chosen: list[int] = []
    for pick in indices.tolist():
        best = max(ref_joint_mi(samples, [*chosen, i]) for i in range(n) if i not in chosen)
        chosen.append(pick)
        # Configurations whose posteriors agree to POSTERIOR_GRID are merged (typically 1e-7
        # nats, a few 1e-6 where posterior entries are tiny: see merge_posteriors), so a
        # near-tie may go either way within that error.
        assert ref_joint_mi(samples, chosen) == pytest.approx(best, abs=MERGE_ERROR)
    assert gains.sum() == pytest.approx(ref_joint_mi(samples, chosen), abs=MERGE_ERROR)


def test_gains_are_the_marginal_joint_mi_and_sum_to_it() -> None:
    samples = random_samples(5, 8, 3, seed=11)
    indices, gains = greedy_batchbald(samples, 4, np.random.default_rng(0), np.zeros(8, bool))
    mi = [ref_joint_mi(samples, indices[:t].tolist()) for t in range(5)]
    np.testing.assert_allclose(gains, np.diff(mi), atol=1e-10)
    assert (np.diff(gains) <= 1e-12).all()  # diminishing returns: the joint MI is submodular


def test_batch_of_one_is_the_bald_top_one() -> None:
    samples = random_samples(10, 200, 5, seed=4)
    selection = get_strategy("batchbald").select(PoolInputs(samples=samples), 1, rng=0)
    scores = bald(samples)
    assert selection.indices.tolist() == [int(np.argmax(scores))]
    assert selection.scores[0] == pytest.approx(scores.max(), abs=1e-12)


def test_batch_mutual_information_exact_matches_enumeration() -> None:
    samples = random_samples(3, 6, 3, seed=5)
    for batch in ([0], [1, 4], [5, 2, 3], [0, 1, 2, 3]):
        assert batch_mutual_information(samples, batch) == pytest.approx(
            ref_joint_mi(samples, batch), abs=1e-10
        )
    assert batch_mutual_information(samples, []) == 0.0


def test_sampled_joint_mi_is_close_to_exact() -> None:
    samples = random_samples(6, 10, 4, seed=6)
    batch = [0, 3, 5, 7, 9]  # 4^5 = 1024 configurations
    exact = batch_mutual_information(samples, batch)
    sampled = batch_mutual_information(samples, batch, rng=0, n_configs=30_000)
    assert sampled == pytest.approx(exact, abs=0.02)


def test_sampled_marginal_gains_are_close_to_exact() -> None:
    samples = random_samples(8, 40, 4, seed=7)
    cond = expected_entropy(samples)
    exact_cfg, sampled_cfg = JointConfigurations(8, 10**6), JointConfigurations(8, 3000)
    rng = np.random.default_rng(0)
    for item in (3, 17, 25, 31, 8, 12):  # 4^6 = 4096 configurations: the last one is sampled
        exact_cfg.add(samples[:, item], rng)
        sampled_cfg.add(samples[:, item], rng)
    assert exact_cfg.exact and not sampled_cfg.exact
    candidates = np.arange(40)
    exact = MarginalGains(samples, cond, *exact_cfg.posterior_and_weights())(candidates)
    sampled = MarginalGains(samples, cond, *sampled_cfg.posterior_and_weights())(candidates)
    np.testing.assert_allclose(sampled, exact, atol=0.02)
    assert sampled_cfg.entropy() == pytest.approx(exact_cfg.entropy(), abs=0.05)


def test_sampled_regime_batch_is_nearly_as_informative_as_exact() -> None:
    samples = random_samples(10, 60, 4, seed=8, scale=3.0)
    exact = batchbald(samples, 5, n_configs=4**4)
    sampled = batchbald(samples, 5, rng=0, n_configs=200)
    mi_exact = batch_mutual_information(samples, exact)
    assert batch_mutual_information(samples, sampled) >= mi_exact - 0.05
    assert batch_mutual_information(samples, sampled) > batch_mutual_information(
        samples, top_k(bald(samples), 5)
    )


def test_duplicated_items_are_spread_unlike_top_k_bald() -> None:
    """Repeated-MNIST in small (Kirsch et al. 2019, sec. 5.1): 20 items, each 3 times."""
    distinct = random_samples(20, 20, 4, seed=9, scale=3.0)
    samples = np.tile(distinct, (1, 3, 1))  # item i sits at i, i + 20, i + 40
    topk_items = top_k(bald(samples), 6) % 20
    assert len(set(topk_items.tolist())) < 6  # top-k BALD takes copies
    picks = batchbald(samples, 6, rng=0)
    assert len(set((picks % 20).tolist())) == 6
    assert batch_mutual_information(samples, picks) > batch_mutual_information(
        samples, top_k(bald(samples), 6)
    )


def test_identical_items_give_distinct_indices_lowest_first() -> None:
    samples = np.tile(random_samples(4, 1, 3, seed=10), (1, 9, 1))
    assert batchbald(samples, 5).tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("seed", range(4))
def test_lazy_evaluation_and_threads_match_full_evaluation(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the package re-exports the function batchbald, which hides the module of that name
    module = importlib.import_module("labelwise.strategies.batchbald")
    monkeypatch.setattr(module, "BLOCK_BYTES", 3000)  # many small blocks
    monkeypatch.setattr(module, "MIN_VALUES_FOR_THREADS", 0)  # threads even for small pools
    samples = random_samples(6, 80, 3, seed)
    no = np.zeros(80, bool)
    rng = np.random.default_rng
    full = greedy_batchbald(samples, 6, rng(0), no, lazy=False, n_jobs=1)
    lazy = greedy_batchbald(samples, 6, rng(0), no, lazy=True, n_jobs=1)
    threaded = greedy_batchbald(samples, 6, rng(0), no, lazy=True, n_jobs=2)
    for other in (lazy, threaded):
        np.testing.assert_array_equal(other[0], full[0])
        np.testing.assert_allclose(other[1], full[1], atol=1e-12)


def test_deterministic_for_a_seed_in_the_sampled_regime() -> None:
    samples = random_samples(8, 100, 5, seed=12).astype(np.float32)
    a = batchbald(samples, 6, rng=3, n_configs=50)
    b = batchbald(samples, 6, rng=np.random.default_rng(3), n_configs=50)
    np.testing.assert_array_equal(a, b)


def test_excluded_items_are_never_picked() -> None:
    samples = random_samples(6, 30, 3, seed=13)
    best = np.argsort(-bald(samples))[:10]
    picks = batchbald(samples, 8, rng=0, exclude=best)
    assert not set(picks.tolist()) & set(best.tolist())
    assert len(set(picks.tolist())) == 8


def test_merge_posteriors_merges_equal_rows_and_keeps_the_weight() -> None:
    post = np.array([[0.5, 0.5], [0.2, 0.8], [0.5, 0.5], [0.500001, 0.499999]])
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    merged, merged_weights = merge_posteriors(post, weights)
    assert merged.shape == (2, 2)
    assert merged_weights.sum() == pytest.approx(1.0)
    row = int(np.argmin(np.abs(merged[:, 0] - 0.5)))
    assert merged_weights[row] == pytest.approx(0.8)
    np.testing.assert_allclose(merged[row], [0.5 + 0.4e-6 / 0.8, 0.5 - 0.4e-6 / 0.8])
    same, same_weights = merge_posteriors(post[:2], weights[:2])
    np.testing.assert_array_equal(same, post[:2])
    np.testing.assert_array_equal(same_weights, weights[:2])


def test_bad_arguments_are_refused() -> None:
    samples = random_samples(3, 5, 2, seed=14)
    with pytest.raises(InvalidInputError, match="n_configs"):
        batchbald(samples, 2, n_configs=0)
    with pytest.raises(BatchSizeError, match="exceeds"):
        batchbald(samples, 6)
    with pytest.raises(InvalidInputError, match="sum to 1"):
        batchbald(samples * 2, 2)
    with pytest.raises(InvalidInputError, match="n_configs"):
        get_strategy("batchbald", n_configs=-1)
