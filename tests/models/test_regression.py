"""SklearnRegressor: any scikit-learn regressor, bootstrap members, GP std; through the engine."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeRegressor

from labelwise.errors import InvalidInputError
from labelwise.learner import ActiveLearner
from labelwise.loop import RoundEngine
from labelwise.loop.capabilities import check_runnable
from labelwise.models import SklearnModel, compute_inputs
from labelwise.models.regression import SklearnRegressor
from labelwise.strategies import available_strategies, get_strategy


@pytest.fixture
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    return X[:120], y[:120]


def test_predict_is_the_estimator_fitted_on_the_labeled_set(diabetes) -> None:
    X, y = diabetes
    model = SklearnRegressor(LinearRegression(), n_bootstrap=0).fit(X, y)
    np.testing.assert_allclose(model.predict(X), LinearRegression().fit(X, y).predict(X))


def test_members_are_fitted_on_bootstrap_resamples(diabetes) -> None:
    X, y = diabetes
    model = SklearnRegressor(LinearRegression(), n_bootstrap=4, random_state=0).fit(X, y)
    members = model.committee_predict(X)
    assert members.shape == (4, len(X))
    # every member differs from the full-data fit and from each other: different resamples
    full = model.predict(X)
    assert all(not np.allclose(m, full) for m in members)
    assert len({round(float(m[0]), 9) for m in members}) == 4
    np.testing.assert_array_equal(model.sample_predict(X, 50), members)


def test_a_seed_repeats_the_members(diabetes) -> None:
    X, y = diabetes
    a = SklearnRegressor(DecisionTreeRegressor(), 3, random_state=5).fit(X, y)
    b = SklearnRegressor(DecisionTreeRegressor(), 3, random_state=5).fit(X, y)
    np.testing.assert_array_equal(a.committee_predict(X), b.committee_predict(X))


def test_predict_std_is_the_gaussian_process_return_std(diabetes) -> None:
    X, y = diabetes
    model = SklearnRegressor(GaussianProcessRegressor(), n_bootstrap=0).fit(X[:40], y[:40])
    _, expected = GaussianProcessRegressor().fit(X[:40], y[:40]).predict(X, return_std=True)
    np.testing.assert_allclose(model.predict_std(X), expected)
    assert "pred_std" in model.supplies


def test_what_it_supplies_follows_the_estimator_and_members() -> None:
    assert SklearnRegressor(LinearRegression(), 0).supplies == {"pred_mean", "labeled_targets"}
    assert {"pred_samples", "pred_committee"} <= SklearnRegressor(LinearRegression(), 3).supplies
    with pytest.raises(InvalidInputError, match="GaussianProcessRegressor"):
        SklearnRegressor(LinearRegression(), 0).fit([[0.0], [1.0]], [0, 1]).predict_std([[0.0]])


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros((3, 2)), "1-dimensional"),
        ([0.0, np.nan, 1.0], "NaN"),
        (["a", "b", "c"], "numbers"),
        ([1.0, 2.0], "3 rows but y has 2"),
    ],
)
def test_bad_targets_are_refused(y, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        SklearnRegressor(LinearRegression(), 0).fit(np.zeros((3, 1)), y)


def test_one_bootstrap_member_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="n_bootstrap=1"):
        SklearnRegressor(LinearRegression(), 1)


def test_compute_inputs_gives_every_regression_input(diabetes) -> None:
    X, y = diabetes
    model = SklearnRegressor(LinearRegression(), 3, random_state=0).fit(X[:20], y[:20])
    needs = {"pred_mean", "pred_samples", "pred_committee", "labeled_targets", "embeddings"}
    inputs = compute_inputs(model, X, needs, X_labeled=X[:20], y_labeled=y[:20], chunk_size=7)
    assert inputs.pred_mean is not None and inputs.pred_samples is not None
    np.testing.assert_allclose(inputs.pred_mean, model.predict(X))
    np.testing.assert_allclose(inputs.pred_samples, model.committee_predict(X))
    np.testing.assert_array_equal(inputs.labeled_targets, y[:20])
    assert inputs.n_pool == len(X)


def test_a_classification_strategy_is_refused_with_a_regressor() -> None:
    model = SklearnRegressor(LinearRegression(), 0)
    with pytest.raises(InvalidInputError, match="proba"):
        check_runnable(get_strategy("margin"), model)
    with pytest.raises(InvalidInputError, match="pred_std comes from"):
        check_runnable(get_strategy("gp_std"), model)
    with pytest.raises(InvalidInputError, match="pred_mean"):
        check_runnable(get_strategy("gsy"), SklearnModel(LogisticRegression()))


@pytest.mark.parametrize("strategy", available_strategies("regression"))
def test_every_regression_strategy_runs_rounds_in_the_active_learner(diabetes, strategy) -> None:
    X, y = diabetes
    estimator = GaussianProcessRegressor() if strategy == "gp_std" else LinearRegression()
    learner = ActiveLearner(SklearnRegressor(estimator, 3, random_state=0), strategy)
    pool = np.arange(len(X))
    labeled: list[int] = []
    for _ in range(3):
        picked = learner.query(X, 5, rng=0, exclude=np.array(labeled, dtype=np.intp))
        assert not set(picked.tolist()) & set(labeled) and len(set(picked.tolist())) == 5
        labeled += pool[picked].tolist()
        learner.teach(X[picked], y[picked])
    assert learner.y_labeled.shape == (15,)
    assert learner.engine.version == 3 and learner.engine.can_rank
    assert np.isfinite(learner.score(X, y))


def test_the_engine_starts_cold_then_ranks_with_targets(diabetes) -> None:
    X, y = diabetes
    engine = RoundEngine(SklearnRegressor(LinearRegression(), 3, random_state=0), "igs")
    cold = engine.select(X, 4, rng=0)
    assert cold.cold and cold.strategy == "kmeans"
    engine.fit(X[cold.indices], y[cold.indices])
    warm = engine.select(X, 4, rng=0, exclude=cold.indices)
    assert not warm.cold and warm.strategy == "igs"
    assert not set(warm.indices.tolist()) & set(cold.indices.tolist())
