"""SklearnMultilabel: binary relevance through scikit-learn wrappers; 2-D y through the engine."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from labelwise.errors import InvalidInputError
from labelwise.learner import ActiveLearner
from labelwise.loop.capabilities import check_runnable
from labelwise.models import compute_inputs
from labelwise.models.multilabel import SklearnMultilabel
from labelwise.strategies import available_strategies, get_strategy


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    X, Y = make_multilabel_classification(150, n_features=6, n_classes=4, random_state=0)
    return X.astype(float), Y


def _per_label_reference(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """One logistic regression per label, fitted by hand; constant labels keep their value."""
    out = np.empty((len(X), Y.shape[1]))
    for q in range(Y.shape[1]):
        if Y[:, q].min() == Y[:, q].max():
            out[:, q] = Y[0, q]
        else:
            out[:, q] = LogisticRegression().fit(X, Y[:, q]).predict_proba(X)[:, 1]
    return out


@pytest.mark.parametrize("wrapper", ["one_vs_rest", "multi_output"])
def test_label_proba_is_one_binary_classifier_per_label(data, wrapper) -> None:
    X, Y = data
    model = SklearnMultilabel(LogisticRegression(), wrapper).fit(X, Y)
    np.testing.assert_allclose(model.predict_label_proba(X), _per_label_reference(X, Y), atol=1e-6)


@pytest.mark.parametrize("n_varying", [0, 1, 2])
def test_constant_labels_are_predicted_as_they_were_seen(data, n_varying: int) -> None:
    X, Y = data
    Y = Y.copy()
    Y[:, n_varying:] = np.array([1, 0, 1, 0])[n_varying:]  # labels n_varying.. constant
    model = SklearnMultilabel(LogisticRegression(), "multi_output").fit(X, Y)
    np.testing.assert_allclose(model.predict_label_proba(X), _per_label_reference(X, Y), atol=1e-6)


def test_a_natively_multi_label_estimator_drops_in(data) -> None:
    X, Y = data
    model = SklearnMultilabel(KNeighborsClassifier(5), "native").fit(X, Y)
    knn = KNeighborsClassifier(5).fit(X, Y)
    expected = np.stack([p[:, 1] for p in knn.predict_proba(X)], axis=1)
    np.testing.assert_allclose(model.predict_label_proba(X), expected)
    np.testing.assert_array_equal(model.predict(X), (expected >= 0.5).astype(int))


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.array([0, 1, 1]), "2-D 0/1 matrix"),
        (np.array([[0, 2], [1, 0], [0, 1]]), "only 0 and 1"),
        (np.array([[0, 1], [1, 0]]), "3 rows but y has 2"),
    ],
)
def test_bad_label_sets_are_refused(y, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        SklearnMultilabel(LogisticRegression()).fit(np.zeros((3, 1)), y)


def test_bad_options_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="wrapper"):
        SklearnMultilabel(LogisticRegression(), "chain")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="predict_proba"):
        SklearnMultilabel(object())


def test_compute_inputs_gives_marginals_and_label_sets(data) -> None:
    X, Y = data
    model = SklearnMultilabel(LogisticRegression()).fit(X[:30], Y[:30])
    needs = {"label_proba", "labeled_label_sets"}
    inputs = compute_inputs(model, X, needs, X_labeled=X[:30], y_labeled=Y[:30], chunk_size=40)
    np.testing.assert_allclose(inputs.label_proba, model.predict_label_proba(X))
    np.testing.assert_array_equal(inputs.labeled_label_sets, Y[:30])


def test_classification_and_regression_strategies_are_refused() -> None:
    model = SklearnMultilabel(LogisticRegression())
    with pytest.raises(InvalidInputError, match="proba"):
        check_runnable(get_strategy("entropy"), model)
    with pytest.raises(InvalidInputError, match="pred_mean"):
        check_runnable(get_strategy("gsy"), model)


@pytest.mark.parametrize("strategy", available_strategies("multilabel"))
def test_every_multilabel_strategy_runs_rounds_in_the_active_learner(data, strategy) -> None:
    X, Y = data
    learner = ActiveLearner(SklearnMultilabel(LogisticRegression()), strategy)
    labeled: list[int] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # early rounds: labels absent from the labeled set
        for _ in range(3):
            picked = learner.query(X, 6, rng=0, exclude=np.array(labeled, dtype=np.intp))
            assert not set(picked.tolist()) & set(labeled) and len(set(picked.tolist())) == 6
            labeled += picked.tolist()
            learner.teach(X[picked], Y[picked])
    assert learner.y_labeled.shape == (18, 4)
    assert learner.engine.can_rank
    assert 0.0 <= learner.score(X, Y) <= 1.0
