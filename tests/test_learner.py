"""ActiveLearner: query, teach, refit: the loop as library users write it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from labelwise.errors import InvalidInputError, UnknownStrategyError
from labelwise.learner import ActiveLearner
from labelwise.models import BootstrapCommittee, SklearnModel
from labelwise.strategies import get_strategy


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def seeded(
    X: np.ndarray, y: np.ndarray, strategy="margin", n: int = 30, **options
) -> ActiveLearner:
    model = SklearnModel(LogisticRegression(max_iter=300), classes=range(10))
    return ActiveLearner(model, strategy, X[:n], y[:n], **options)


def test_query_picks_the_smallest_margins_of_the_pool(digits) -> None:
    X, y = digits
    learner = seeded(X, y)
    pool = X[100:400]
    picked = learner.query(pool, batch_size=8, rng=0)
    proba = learner.predict_proba(pool)
    gaps = [sorted(row)[-1] - sorted(row)[-2] for row in proba]  # slow, literal margin
    expected = sorted(range(len(pool)), key=lambda i: (gaps[i], i))[:8]
    assert sorted(picked.tolist()) == sorted(expected)


def test_query_selection_reports_the_scores_of_the_chosen(digits) -> None:
    X, y = digits
    learner = seeded(X, y, "entropy")
    sel = learner.query_selection(X[100:300], batch_size=5, rng=0)
    proba = learner.predict_proba(X[100:300])[sel.indices]
    np.testing.assert_allclose(sel.scores, -(proba * np.log(proba)).sum(axis=1), rtol=1e-9)


def test_query_never_returns_excluded_positions(digits) -> None:
    X, y = digits
    exclude = np.arange(0, 200, 2)
    picked = seeded(X, y).query(X[200:400], batch_size=50, rng=0, exclude=exclude)
    assert len(set(picked.tolist())) == 50
    assert not set(picked.tolist()) & set(exclude.tolist())


def test_teach_appends_and_refits(digits) -> None:
    X, y = digits
    learner = seeded(X, y, n=20)
    before = learner.predict_proba(X[500:510])
    learner.teach(X[100:140], y[100:140])
    assert len(learner.y_labeled) == 60 and learner.X_labeled.shape == (60, 64)
    np.testing.assert_array_equal(learner.y_labeled[20:], y[100:140])
    assert not np.allclose(learner.predict_proba(X[500:510]), before)


def test_teach_without_refit_keeps_the_model_until_fit(digits) -> None:
    X, y = digits
    learner = seeded(X, y, n=20)
    before = learner.predict_proba(X[:5])
    learner.teach(X[100:140], y[100:140], refit=False)
    np.testing.assert_array_equal(learner.predict_proba(X[:5]), before)
    learner.fit()
    assert not np.array_equal(learner.predict_proba(X[:5]), before)


def test_random_queries_work_before_any_label(digits) -> None:
    X, y = digits
    learner = ActiveLearner(SklearnModel(LogisticRegression()), "random")
    picked = learner.query(X, batch_size=10, rng=3)
    assert len(set(picked.tolist())) == 10
    np.testing.assert_array_equal(picked, learner.query(X, batch_size=10, rng=3))
    learner.teach(X[picked], y[picked])
    assert len(learner.y_labeled) == 10


def test_every_strategy_starts_cold_with_one_pick_per_cluster(digits) -> None:
    X, y = digits
    learner = ActiveLearner(SklearnModel(LogisticRegression()), "margin")
    result = learner.query_round(X, batch_size=10, rng=0)
    assert result.cold and result.strategy == "kmeans" and result.model_version == 0
    # ten k-means clusters of the digits' pixels: the picks cover most of the ten digits
    assert len(set(y[result.indices].tolist())) >= 7
    learner.teach(X[result.indices[:1]], y[result.indices[:1]])  # one class: still cold
    assert learner.query_round(X, batch_size=5, rng=0).cold
    learner.teach(X[result.indices[1:]], y[result.indices[1:]])
    warm = learner.query_round(X, batch_size=5, rng=0)
    assert not warm.cold and warm.strategy == "margin" and warm.model_version == 2


def test_score_is_the_accuracy(digits) -> None:
    X, y = digits
    learner = seeded(X, y, n=200)
    proba = learner.predict_proba(X[1000:1100])
    hits = sum(int(np.argmax(proba[i]) == y[1000 + i]) for i in range(100))
    assert learner.score(X[1000:1100], y[1000:1100]) == hits / 100


def test_a_strategy_object_and_a_committee_work_together(digits) -> None:
    X, y = digits
    committee = BootstrapCommittee(LogisticRegression(max_iter=300), 3, range(10), random_state=0)
    learner = ActiveLearner(committee, get_strategy("least_confidence"), X[:40], y[:40])
    assert learner.query(X[40:240], batch_size=4, rng=0).shape == (4,)


def test_large_batches_are_spread_out_unless_diversity_is_off(digits) -> None:
    from labelwise.loop.diversity import DIVERSE_FACTOR

    X, y = digits
    pool = X[200:1000]
    plain = seeded(X, y, n=40, diversity="off")
    proba = plain.predict_proba(pool)
    gaps = [sorted(row)[-1] - sorted(row)[-2] for row in proba]
    by_margin = sorted(range(len(pool)), key=lambda i: (gaps[i], i))
    off = plain.query(pool, 50, rng=0)
    auto = seeded(X, y, n=40).query(pool, 50, rng=0)
    assert sorted(off.tolist()) == sorted(by_margin[:50])
    assert len(set(auto.tolist())) == 50 and set(auto.tolist()) != set(off.tolist())
    assert set(auto.tolist()) <= set(by_margin[: DIVERSE_FACTOR * 50])


def test_bad_arguments_are_refused_clearly() -> None:
    model = SklearnModel(LogisticRegression())
    with pytest.raises(UnknownStrategyError, match="unknown strategy"):
        ActiveLearner(model, "no_such_strategy")
    with pytest.raises(InvalidInputError, match="both"):
        ActiveLearner(model, "margin", X_labeled=np.zeros((2, 2)))
    with pytest.raises(InvalidInputError, match="SklearnModel"):
        ActiveLearner(object(), "margin")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="teach"):
        ActiveLearner(model).fit()
    with pytest.raises(InvalidInputError, match="diversity"):
        ActiveLearner(model, diversity="sometimes")  # type: ignore[arg-type]


@pytest.mark.slow
def test_margin_needs_fewer_labels_than_random_on_digits(digits) -> None:
    X, y = digits
    test = np.arange(1200, len(X))
    accuracy = {"margin": [], "random": []}
    for strategy in accuracy:
        for seed in range(2):
            rng = np.random.default_rng(seed)
            pool = rng.permutation(1200)
            learner = seeded(X[pool[:20]], y[pool[:20]], strategy, n=20)
            pool = pool[20:]
            for _ in range(10):
                picked = pool[learner.query(X[pool], 10, rng=rng)]
                learner.teach(X[picked], y[picked])
                pool = np.setdiff1d(pool, picked)
            accuracy[strategy].append(learner.score(X[test], y[test]))
    assert np.mean(accuracy["margin"]) > np.mean(accuracy["random"]) + 0.01
