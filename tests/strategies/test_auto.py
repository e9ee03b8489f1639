"""``auto``: the reward is unbiased (against brute-force expectations), the bandit keeps its
floors and learns, the engine feeds it back, and on digits it is not worse than random."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from labelwise import ActiveLearner
from labelwise.errors import InvalidInputError
from labelwise.models import SklearnModel
from labelwise.strategies import PoolInputs, get_strategy
from labelwise.strategies.auto import (
    Auto,
    LearnsFromLabels,
    exp3_probabilities,
    inclusion_probabilities,
    iw_accuracy,
)


def _exact_expected_reward(
    arm_probs: np.ndarray,
    arm_sets: list[np.ndarray | None],
    batch_size: int,
    open_mask: np.ndarray,
    correct: np.ndarray,
) -> float:
    """E[iw_accuracy] by enumerating every arm and, for the random arm, every batch."""
    pi = inclusion_probabilities(arm_probs, arm_sets, batch_size, open_mask)
    n_open = int(open_mask.sum())
    total = 0.0
    for prob, chosen in zip(arm_probs, arm_sets, strict=True):
        if chosen is None:
            batches = list(itertools.combinations(np.flatnonzero(open_mask), batch_size))
            for batch in batches:
                b = np.asarray(batch)
                total += prob / len(batches) * iw_accuracy(correct[b], pi[b], n_open)
        else:
            total += prob * iw_accuracy(correct[chosen], pi[chosen], n_open)
    return total


@pytest.mark.parametrize("seed", range(20))
def test_reward_is_unbiased_by_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, b = 8, 3
    open_mask = rng.random(n) < 0.8
    open_mask[:b] = True  # at least b open items
    open_idx = np.flatnonzero(open_mask)
    k = int(rng.integers(1, 4))  # non-random arms
    arm_sets: list[np.ndarray | None] = [
        rng.choice(open_idx, size=b, replace=False) for _ in range(k)
    ]
    arm_sets.append(None)
    probs = exp3_probabilities(rng.normal(size=k + 1), gamma=0.2)
    correct = rng.random(n) < 0.6
    expected = _exact_expected_reward(probs, arm_sets, b, open_mask, correct)
    assert expected == pytest.approx(correct[open_mask].mean(), abs=1e-12)


def test_inclusion_probabilities_sum_to_the_batch_size() -> None:
    mask = np.array([True, True, False, True, True])
    pi = inclusion_probabilities(
        [0.5, 0.2, 0.3], [np.array([0, 1]), np.array([1, 3]), None], 2, mask
    )
    np.testing.assert_allclose(pi, [0.5 + 0.15, 0.7 + 0.15, 0.0, 0.2 + 0.15, 0.15])
    assert pi.sum() == pytest.approx(2.0)


def test_iw_accuracy_refuses_a_zero_probability() -> None:
    with pytest.raises(InvalidInputError, match="positive"):
        iw_accuracy([True], [0.0], 3)


def test_exp3_keeps_every_arm_above_its_floor() -> None:
    p = exp3_probabilities([50.0, 0.0, -50.0, 0.0], gamma=0.2)
    assert p.sum() == pytest.approx(1.0)
    assert p.min() >= 0.2 / 4 - 1e-12


def _pool(seed: int, n: int = 40, c: int = 3, d: int = 4) -> PoolInputs:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)) * 2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return PoolInputs(
        proba=proba,
        embeddings=rng.normal(size=(n, d)),
        labeled_embeddings=rng.normal(size=(5, d)),
        exclude=np.arange(0, n, 5),
    )


def test_auto_rewards_are_unbiased_monte_carlo() -> None:
    """Through select/update: the mean credited reward matches the model's true accuracy."""
    inputs = _pool(0)
    assert inputs.proba is not None
    labels = np.random.default_rng(1).integers(0, 3, size=40)  # the oracle's columns
    open_mask = np.ones(40, dtype=bool)
    open_mask[inputs.exclude] = False
    truth = float((inputs.proba.argmax(axis=1) == labels)[open_mask].mean())
    rewards = []
    for seed in range(600):
        auto = Auto(gamma=0.5)
        auto.log_weights = np.array([1.0, -1.0, 0.0])  # unequal arm probabilities
        rng = np.random.default_rng(seed)
        for _ in range(2):  # first batch sets the credited arm, the second is scored
            picked = auto.select(inputs, 4, rng).indices
            auto.update(np.arange(picked.size), labels[picked])
        rewards.append(auto.rewards[-1][1])
    mean, se = float(np.mean(rewards)), float(np.std(rewards) / np.sqrt(len(rewards)))
    assert abs(mean - truth) < 4 * se + 1e-3, (mean, truth, se)


def test_credit_goes_to_the_arm_that_trained_the_model() -> None:
    auto = Auto(portfolio=("margin",), gamma=1.0)  # uniform over margin and random
    rng = np.random.default_rng(3)
    inputs = _pool(1)
    first = auto.select(inputs, 3, rng)
    first_arm = auto.last_choice
    auto.update(np.arange(first.indices.size), np.zeros(first.indices.size, dtype=np.intp))
    assert auto.rewards == []  # the cold model that chose the first batch earns nothing
    second = auto.select(inputs, 3, rng)
    auto.update(np.arange(second.indices.size), np.zeros(second.indices.size, dtype=np.intp))
    assert [arm for arm, _ in auto.rewards] == [first_arm]
    assert auto.choices[0] == first_arm


def test_an_arm_whose_labels_help_gains_probability() -> None:
    """The oracle answers what the model predicts only after margin's batches: margin wins."""
    auto = Auto(portfolio=("margin", "coreset"), gamma=0.3)
    inputs = _pool(2)
    assert inputs.proba is not None
    predicted = inputs.proba.argmax(axis=1)
    rng = np.random.default_rng(0)
    for _ in range(60):
        picked = auto.select(inputs, 4, rng).indices
        helped = len(auto.choices) > 1 and auto.choices[-2] == "margin"
        labels = predicted[picked] if helped else (predicted[picked] + 1) % 3
        auto.update(np.arange(picked.size), labels)
    assert auto.arm_names[int(auto.probabilities.argmax())] == "margin"
    assert auto.probabilities.min() >= 0.3 / 3 - 1e-12
    assert {arm for arm, _ in auto.rewards} == {"margin", "coreset", "random"}


def test_portfolio_is_checked() -> None:
    with pytest.raises(InvalidInputError, match="samples"):
        Auto(portfolio=("bald",))
    with pytest.raises(InvalidInputError, match="distinct"):
        Auto(portfolio=("margin", "margin"))
    with pytest.raises(InvalidInputError, match="gamma"):
        Auto(gamma=0.0)
    assert isinstance(get_strategy("auto"), LearnsFromLabels)
    assert get_strategy("auto", portfolio=["entropy"]).arm_names == ("entropy", "random")


def test_engine_feeds_auto_back_in_active_learner() -> None:
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
    learner = ActiveLearner(SklearnModel(LogisticRegression(max_iter=500)), "auto", X[:12], y[:12])
    labeled = np.zeros(300, dtype=bool)
    labeled[:12] = True
    names = []
    for round_index in range(6):
        result = learner.query_round(X, 5, rng=round_index, exclude=labeled)
        names.append(result.strategy)
        learner.teach(X[result.indices], y[result.indices])
        labeled[result.indices] = True
    auto = learner.strategy
    assert isinstance(auto, Auto)
    assert all(name.startswith("auto:") for name in names)
    assert [f"auto:{c}" for c in auto.choices] == names
    assert len(auto.rewards) == 5  # every batch after the first is scored
    assert all(np.isfinite(r) and r >= 0 for _, r in auto.rewards)


@pytest.mark.slow
def test_auto_is_not_worse_than_random_on_digits() -> None:
    """Area under the learning curve over 3 seeds: auto - random above minus noise."""
    from labelwise.simulate import SimulationConfig, run_simulation
    from labelwise.simulate.summary import summarize

    config = SimulationConfig(
        dataset="digits",
        strategies=("random", "auto"),
        seeds=3,
        initial=20,
        batch_size=10,
        budget=150,
        full_data=False,
    )
    result = run_simulation(config)
    summary = summarize(result.rounds, {}, config.strategies, ())
    diffs = np.array(list(summary["strategies"]["auto"]["auc_minus_random"]["per_seed"].values()))
    noise = 2 * summary["strategies"]["random"]["auc"]["std"] / np.sqrt(diffs.size)
    assert diffs.mean() > -noise, (diffs, noise)
    rounds = result.rounds[result.rounds["strategy"] == "auto"]
    assert rounds["choice"].str.startswith("auto:").any()
