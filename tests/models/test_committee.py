"""BootstrapCommittee: bagged members, their mean, a common label space."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from labelwise.errors import InvalidInputError
from labelwise.models import BootstrapCommittee


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


def test_sample_proba_returns_the_first_k_members(data) -> None:
    X, y = data
    committee = BootstrapCommittee(LogisticRegression(), 4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(committee.sample_proba(X, 2), committee.committee_proba(X)[:2])
    with pytest.raises(InvalidInputError, match="between 1 and the 4"):
        committee.sample_proba(X, 5)


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
