"""SklearnModel: clone on fit, a fixed label space, warm start, the one-class cold start."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from labelwise.errors import InvalidInputError
from labelwise.models import SklearnModel


def test_fit_trains_a_clone_and_leaves_the_estimator_untouched(data) -> None:
    X, y = data
    estimator = LogisticRegression(C=0.5)
    model = SklearnModel(estimator).fit(X, y)
    assert not hasattr(estimator, "coef_")
    assert model.estimator_ is not estimator
    assert model.estimator is estimator and estimator.get_params()["C"] == 0.5


def test_unseen_classes_get_zero_columns_and_the_rest_match_the_estimator(data) -> None:
    X, y = data
    seen = y != 1
    model = SklearnModel(LogisticRegression(), classes=[0, 1, 2, 3]).fit(X[seen], y[seen])
    proba = model.predict_proba(X)
    reference = LogisticRegression().fit(X[seen], y[seen]).predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_array_equal(proba[:, [1, 3]], 0.0)
    np.testing.assert_allclose(proba[:, [0, 2]], reference)


def test_columns_follow_the_order_of_classes_given(data) -> None:
    X, y = data
    labels = np.array(["ant", "bee", "cat"])[y]
    model = SklearnModel(LogisticRegression(), classes=["cat", "ant", "bee"]).fit(X, labels)
    reference = LogisticRegression().fit(X, labels)  # columns in sorted order: ant, bee, cat
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X)[:, [2, 0, 1]])


def test_a_label_outside_classes_is_refused_with_its_name(data) -> None:
    X, y = data
    labels = np.where(y == 2, "dog", "cat")
    with pytest.raises(InvalidInputError, match="dog are not in classes"):
        SklearnModel(LogisticRegression(), classes=["cat", "cow"]).fit(X, labels)


def test_a_single_labeled_class_is_predicted_with_certainty(data) -> None:
    X, _ = data
    model = SklearnModel(LogisticRegression(), classes=[0, 1, 2]).fit(X[:3], [1, 1, 1])
    np.testing.assert_array_equal(model.predict_proba(X[:4]), [[0.0, 1.0, 0.0]] * 4)


def test_without_classes_the_label_space_is_what_fit_saw(data) -> None:
    X, y = data
    model = SklearnModel(LogisticRegression()).fit(X, y + 10)
    np.testing.assert_array_equal(model.classes_, [10, 11, 12])


def test_warm_start_refits_the_same_clone_with_its_warm_start_on(data) -> None:
    X, y = data
    estimator = LogisticRegression()
    model = SklearnModel(estimator, warm_start=True).fit(X[:30], y[:30])
    first = model.estimator_
    model.fit(X, y)
    assert model.estimator_ is first and first.warm_start
    assert estimator.warm_start is False


def test_warm_start_takes_a_fresh_clone_when_a_new_class_arrives(data) -> None:
    X, y = data
    model = SklearnModel(LogisticRegression(), classes=[0, 1, 2], warm_start=True)
    first = model.fit(X[y < 2], y[y < 2]).estimator_
    assert model.fit(X, y).estimator_ is not first
    assert model.predict_proba(X).shape == (len(X), 3)


def test_without_warm_start_every_fit_takes_a_fresh_clone(data) -> None:
    X, y = data
    model = SklearnModel(LogisticRegression()).fit(X, y)
    first = model.estimator_
    assert model.fit(X, y).estimator_ is not first


def test_a_pipeline_drops_in(data) -> None:
    X, y = data
    model = SklearnModel(make_pipeline(StandardScaler(), LogisticRegression())).fit(X, y)
    assert (model.classes_[model.predict_proba(X).argmax(1)] == y).mean() > 0.9


def test_an_estimator_without_predict_proba_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="predict_proba"):
        SklearnModel(LinearSVC())


@settings(max_examples=15, deadline=None)
@given(st.sets(st.integers(0, 4), min_size=1, max_size=5), st.integers(0, 2**16))
def test_any_labeled_subset_gives_full_rows_that_sum_to_one(seen: set[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.array(sorted(seen) * 3)
    X = rng.normal(size=(len(y), 3)) + y[:, None]
    proba = SklearnModel(LogisticRegression(), classes=range(5)).fit(X, y).predict_proba(X)
    assert proba.shape == (len(y), 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    unseen = [c for c in range(5) if c not in seen]
    assert (proba[:, unseen] == 0).all()
