"""Committees: bagged or different members, their mean, a common label space, and their members
as the posterior samples that Bayesian strategies read."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

import labelwise
from labelwise.errors import InvalidInputError
from labelwise.models import BootstrapCommittee, Committee, compute_inputs
from labelwise.strategies import available_strategies, get_strategy

#: Strategies that read the members: as posterior samples or as a committee's votes.
MEMBER_STRATEGIES = [
    name
    for name in available_strategies()
    if get_strategy(name).needs & {"samples", "committee_proba"}
]


def test_predict_proba_is_the_mean_of_the_members(data) -> None:
    X, y = data
    committee = BootstrapCommittee(LogisticRegression(), 3, random_state=0).fit(X, y)
    members = committee.committee_proba(X)
    mean = np.zeros_like(members[0])
    for m in range(3):
        for i in range(len(X)):
            mean[i] += members[m, i] / 3
    np.testing.assert_allclose(committee.predict_proba(X), mean)


def test_members_are_trained_on_different_resamples(data) -> None:
    X, y = data
    committee = BootstrapCommittee(DecisionTreeClassifier(), 4, random_state=0).fit(X[:12], y[:12])
    members = committee.committee_proba(X)
    assert any(not np.array_equal(members[0], members[m]) for m in range(1, 4))


def test_a_resample_missing_a_class_still_covers_the_label_space(data) -> None:
    X, _ = data
    X_small, y_small = X[:7], np.array([0, 0, 0, 0, 0, 1, 2])
    committee = BootstrapCommittee(LogisticRegression(), 8, random_state=1).fit(X_small, y_small)
    members = committee.committee_proba(X)
    assert members.shape == (8, len(X), 3)
    np.testing.assert_allclose(members.sum(axis=2), 1.0, atol=1e-6)
    assert (members == 0).any()  # some resample lacked class 1 or 2


@pytest.mark.parametrize("n_samples", [1, 4, 20])
def test_samples_are_all_the_members_whatever_is_asked(data, n_samples) -> None:
    X, y = data
    committee = BootstrapCommittee(LogisticRegression(), 4, random_state=0).fit(X, y)
    samples = committee.sample_proba(X, n_samples)
    assert samples.shape == (4, len(X), 3)
    np.testing.assert_array_equal(samples, committee.committee_proba(X))


@pytest.mark.parametrize("n_samples", [0, -3, 2.0, True])
def test_a_number_of_samples_that_is_no_positive_int_is_refused(data, n_samples) -> None:
    X, y = data
    committee = BootstrapCommittee(LogisticRegression(), 3, random_state=0).fit(X, y)
    with pytest.raises(InvalidInputError, match="n_samples"):
        committee.sample_proba(X, n_samples)


@pytest.mark.parametrize("strategy", MEMBER_STRATEGIES)
def test_member_strategies_run_on_a_committee_of_five_with_default_inputs(data, strategy) -> None:
    X, y = data
    committee = BootstrapCommittee(LogisticRegression(), 5, random_state=0).fit(X[:30], y[:30])
    chosen = get_strategy(strategy)
    inputs = compute_inputs(committee, X[30:], chosen.needs, rng=0)  # n_samples: the default 20
    for name in ("samples", "committee_proba"):
        if name in chosen.needs:
            assert getattr(inputs, name).shape == (5, 30, 3)
    picked = np.asarray(chosen.select(inputs, 4, rng=0).indices)
    assert len(set(picked.tolist())) == 4
    assert ((picked >= 0) & (picked < 30)).all()


def test_a_list_of_different_estimators_makes_a_committee(data) -> None:
    X, y = data
    estimators = [LogisticRegression(), RandomForestClassifier(n_estimators=10), GaussianNB()]
    committee = Committee(estimators, random_state=0).fit(X[:30], y[:30])
    members = committee.committee_proba(X[30:])
    assert members.shape == (3, 30, 3)
    kinds = [type(member.estimator_) for member in committee.members_]
    assert kinds == [LogisticRegression, RandomForestClassifier, GaussianNB]
    for m, estimator in enumerate(estimators):
        alone = estimator.fit(X[:30], y[:30]) if m != 1 else committee.members_[1].estimator_
        np.testing.assert_allclose(members[m], alone.predict_proba(X[30:]))
    np.testing.assert_allclose(committee.predict_proba(X[30:]), members.mean(axis=0))
    np.testing.assert_array_equal(committee.sample_proba(X[30:], 20), members)


def test_bagged_different_members_keep_the_committees_columns(data) -> None:
    X, _ = data
    y = np.array(["a"] * 8 + ["b", "c"])  # most resamples of 10 rows miss "b" or "c"
    estimators = [LogisticRegression(), GaussianNB(), DecisionTreeClassifier()] * 2
    committee = Committee(estimators, bootstrap=True, random_state=3).fit(X[:10], y)
    members = committee.committee_proba(X)
    assert members.shape == (6, len(X), 3)
    np.testing.assert_array_equal(committee.classes_, ["a", "b", "c"])
    missed = 0
    for m, member in enumerate(committee.members_):
        for column, label in enumerate(committee.classes_):
            if label not in member.seen_classes_:
                missed += 1
                np.testing.assert_array_equal(members[m, :, column], 0.0)
    assert missed > 0
    np.testing.assert_allclose(members.sum(axis=2), 1.0, atol=1e-6)


def test_a_committee_is_exported_at_the_top() -> None:
    assert labelwise.Committee is Committee


def test_a_committee_needs_two_probabilistic_estimators() -> None:
    with pytest.raises(InvalidInputError, match="at least 2 estimators"):
        Committee([LogisticRegression()])
    with pytest.raises(InvalidInputError, match="LinearSVC has no fit/predict_proba"):
        Committee([LogisticRegression(), LinearSVC()])
    with pytest.raises(InvalidInputError, match="BootstrapCommittee"):
        Committee(LogisticRegression())  # type: ignore[arg-type]


def test_seeds_decide_the_resamples(data) -> None:
    X, y = data

    def fit(seed: int) -> np.ndarray:
        committee = BootstrapCommittee(DecisionTreeClassifier(), 3, random_state=seed)
        return committee.fit(X[:15], y[:15]).committee_proba(X)

    np.testing.assert_array_equal(fit(5), fit(5))
    assert not np.array_equal(fit(5), fit(6))


def test_a_committee_of_one_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="at least 2"):
        BootstrapCommittee(LogisticRegression(), 1)
