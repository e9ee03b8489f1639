"""Majority vote and Dawid-Skene: literal references, recovery of known confusions, crowd-kit."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import InvalidInputError
from labelwise.quality import dawid_skene, majority_vote, vote_shares

HERE = Path(__file__).resolve().parent


def patients_1979() -> np.ndarray:
    """Dawid & Skene (1979), Table 1, as (item, annotator, label) rows."""
    return np.loadtxt(HERE / "dawid_skene_1979.csv", delimiter=",", skiprows=4, dtype=int)


def crowdkit_fixture() -> dict:
    return json.loads((HERE / "crowdkit_fixture.json").read_text())


def simulate_crowd(
    confusion: np.ndarray, priors: np.ndarray, n_items: int, per_item: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Annotations drawn from the Dawid-Skene model itself: (rows, true labels)."""
    rng = np.random.default_rng(seed)
    n_annotators, n_classes = confusion.shape[0], confusion.shape[1]
    truth = rng.choice(n_classes, size=n_items, p=priors)
    rows = []
    for i in range(n_items):
        for k in rng.choice(n_annotators, size=per_item, replace=False):
            rows.append((i, k, rng.choice(n_classes, p=confusion[k, truth[i]])))
    return np.array(rows), truth


# ---------------------------------------------------------------- majority vote


def test_majority_vote_takes_the_most_frequent_label() -> None:
    rows = [(0, 0, 1), (0, 1, 1), (0, 2, 0), (1, 0, 2), (1, 1, 0), (1, 2, 2)]
    np.testing.assert_array_equal(majority_vote(rows, 3, rng=0), [1, 2])


def test_weights_let_a_trusted_annotator_outvote_two_others() -> None:
    rows = [(0, 0, 1), (0, 1, 0), (0, 2, 0)]
    assert majority_vote(rows, 2, weights=[3.0, 1.0, 1.0], rng=0)[0] == 1
    assert majority_vote(rows, 2, weights=[1.0, 1.0, 1.0], rng=0)[0] == 0


def test_random_ties_pick_only_tied_classes_and_each_of_them() -> None:
    rows = [(0, 0, 0), (0, 1, 2), (1, 0, 1)]
    picks = {int(majority_vote(rows, 3, rng=seed)[0]) for seed in range(40)}
    assert picks == {0, 2}
    np.testing.assert_array_equal(majority_vote(rows, 3, rng=5), majority_vote(rows, 3, rng=5))


def test_lowest_tie_rule_is_deterministic() -> None:
    rows = [(0, 0, 2), (0, 1, 1)]
    assert majority_vote(rows, 3, ties="lowest")[0] == 1


def test_vote_shares_are_normalised_counts() -> None:
    rows = [(0, 0, 1), (0, 1, 1), (0, 2, 0), (1, 0, 2)]
    np.testing.assert_allclose(vote_shares(rows, 3), [[1 / 3, 2 / 3, 0], [0, 0, 1]])
    # An item whose only voter weighs nothing gets the uniform row.
    np.testing.assert_allclose(vote_shares(rows, 3, weights=[0, 1, 1])[1], [1 / 3] * 3)


@pytest.mark.parametrize(
    ("rows", "kwargs", "message"),
    [
        ([(0, 0, 0), (2, 0, 1)], {}, "no annotation"),
        ([(0, 0, 3)], {}, "n_classes"),
        ([(0, 0)], {}, "shape"),
        ([(0, -1, 0)], {}, "non-negative"),
        ([(0, 0, 0)], {"ties": "first"}, "ties"),
        ([(0, 0, 0)], {"weights": [1.0, 2.0]}, "one entry per annotator"),
        ([(0, 0, 0)], {"weights": [-1.0]}, "non-negative"),
    ],
)
def test_majority_vote_refuses_bad_input(rows: list, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        majority_vote(rows, 3, **kwargs)


# ---------------------------------------------------------------- Dawid-Skene


def slow_dawid_skene(rows: np.ndarray, n_classes: int, n_iter: int) -> np.ndarray:
    """Dawid & Skene (1979), sections 2-3, written out with loops over n^k_il."""
    n_items, n_annot = rows[:, 0].max() + 1, rows[:, 1].max() + 1
    n = np.zeros((n_items, n_annot, n_classes))
    for i, k, label in rows:
        n[i, k, label] += 1  # n[i, k, s]: how often annotator k said s for item i
    t = n.sum(axis=1) / n.sum(axis=(1, 2))[:, None]  # initial T_ij: the vote shares
    for _ in range(n_iter):
        p = [sum(t[i, j] for i in range(n_items)) / n_items for j in range(n_classes)]
        pi = np.zeros((n_annot, n_classes, n_classes))
        for k in range(n_annot):
            for j in range(n_classes):
                row = [sum(t[i, j] * n[i, k, s] for i in range(n_items)) for s in range(n_classes)]
                total = sum(row)
                for s in range(n_classes):
                    pi[k, j, s] = row[s] / total if total > 0 else 1 / n_classes
        for i in range(n_items):
            like = [
                p[j]
                * math.prod(
                    pi[k, j, s] ** n[i, k, s] for k in range(n_annot) for s in range(n_classes)
                )
                for j in range(n_classes)
            ]
            t[i] = np.array(like) / sum(like)
    return t


def test_dawid_skene_matches_the_literal_em_on_the_1979_patients() -> None:
    rows = patients_1979()
    for n_iter in (1, 5):
        ours = dawid_skene(rows, 4, max_iter=n_iter, tol=0.0)
        assert ours.n_iter == n_iter
        np.testing.assert_allclose(ours.posterior, slow_dawid_skene(rows, 4, n_iter), atol=1e-10)


def test_dawid_skene_recovers_known_confusion_matrices() -> None:
    confusion = np.array(
        [
            [[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]],
            [[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]],
            [[0.6, 0.4, 0.0], [0.0, 0.6, 0.4], [0.4, 0.0, 0.6]],  # confuses cyclically
            [[1 / 3] * 3] * 3,  # spammer
            [[0.95, 0.05, 0.0], [0.05, 0.9, 0.05], [0.0, 0.1, 0.9]],
        ]
    )
    priors = np.array([0.5, 0.3, 0.2])
    rows, truth = simulate_crowd(confusion, priors, n_items=1500, per_item=4, seed=3)
    result = dawid_skene(rows, 3)
    assert result.converged
    # The target is what the sample realised (the model's truth plus sampling noise of ~0.03).
    realised = np.zeros_like(confusion)
    np.add.at(realised, (rows[:, 1], truth[rows[:, 0]], rows[:, 2]), 1.0)
    realised /= realised.sum(axis=2, keepdims=True)
    np.testing.assert_allclose(result.confusion, realised, atol=0.04)
    np.testing.assert_allclose(result.priors, np.bincount(truth) / truth.size, atol=0.02)
    np.testing.assert_allclose(result.confusion, confusion, atol=0.1)
    assert (result.labels == truth).mean() > (majority_vote(rows, 3, rng=0) == truth).mean()


def test_dawid_skene_log_likelihood_never_decreases() -> None:
    rows = patients_1979()
    lls = [dawid_skene(rows, 4, max_iter=k, tol=0.0).log_likelihood for k in range(1, 12)]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(lls))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=40
    ),
    st.permutations(range(4)),
)
def test_dawid_skene_output_is_a_distribution_and_ignores_annotator_names(
    rows: list[tuple[int, int, int]], rename: list[int]
) -> None:
    table = np.array(rows)
    table[:, 0] = np.unique(table[:, 0], return_inverse=True)[1]  # items without gaps
    result = dawid_skene(table, 3, n_annotators=4)
    np.testing.assert_allclose(result.posterior.sum(axis=1), 1.0)
    np.testing.assert_allclose(result.confusion.sum(axis=2), 1.0)
    assert result.priors.sum() == pytest.approx(1.0)
    renamed = table.copy()
    renamed[:, 1] = np.array(rename)[table[:, 1]]
    other = dawid_skene(renamed, 3, n_annotators=4)
    np.testing.assert_allclose(other.posterior, result.posterior, atol=1e-9)
    np.testing.assert_allclose(other.confusion[rename], result.confusion, atol=1e-9)


def test_dawid_skene_refuses_bad_settings() -> None:
    with pytest.raises(InvalidInputError, match="max_iter"):
        dawid_skene([(0, 0, 0)], 2, max_iter=0)
    with pytest.raises(InvalidInputError, match="tol"):
        dawid_skene([(0, 0, 0)], 2, tol=float("nan"))


# ---------------------------------------------------------------- crowd-kit parity


@pytest.mark.parametrize("name", ["dawid_skene_1979", "synthetic"])
def test_dawid_skene_agrees_with_crowdkit(name: str) -> None:
    fixture = crowdkit_fixture()[name]
    rows = patients_1979() if name == "dawid_skene_1979" else np.array(fixture["annotations"])
    expected = fixture["dawid_skene"]
    ours = dawid_skene(rows, fixture["n_classes"], max_iter=5000, tol=1e-12)
    assert ours.converged
    np.testing.assert_allclose(ours.posterior, expected["posterior"], atol=1e-8)
    np.testing.assert_allclose(ours.priors, expected["priors"], atol=1e-8)
    np.testing.assert_allclose(ours.confusion, expected["confusion"], atol=1e-8)
    np.testing.assert_array_equal(ours.labels, expected["labels"])


@pytest.mark.parametrize("name", ["dawid_skene_1979", "synthetic"])
def test_majority_vote_agrees_with_crowdkit(name: str) -> None:
    fixture = crowdkit_fixture()[name]
    rows = patients_1979() if name == "dawid_skene_1979" else np.array(fixture["annotations"])
    expected = fixture["majority_vote"]
    shares = vote_shares(rows, fixture["n_classes"])
    np.testing.assert_allclose(shares, expected["probas"], atol=1e-12)
    # crowd-kit breaks ties by column order; both must pick one of the tied classes.
    ours = majority_vote(rows, fixture["n_classes"], rng=0)
    tied = shares >= shares.max(axis=1, keepdims=True) - 1e-12
    theirs = np.array(expected["labels"])
    assert tied[np.arange(len(ours)), ours].all() and tied[np.arange(len(ours)), theirs].all()
    unique_winner = tied.sum(axis=1) == 1
    np.testing.assert_array_equal(ours[unique_winner], theirs[unique_winner])
