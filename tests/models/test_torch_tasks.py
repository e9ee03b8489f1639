"""TorchRegressor (MSE, MC Dropout samples) and TorchMultilabel (sigmoid + BCE) on real data."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.datasets import load_diabetes, make_multilabel_classification  # noqa: E402
from sklearn.metrics import f1_score, r2_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from labelwise.errors import InvalidInputError  # noqa: E402
from labelwise.loop import RoundEngine  # noqa: E402
from labelwise.loop.capabilities import check_runnable  # noqa: E402
from labelwise.models import TorchModel, TorchMultilabel, TorchRegressor  # noqa: E402
from labelwise.models.torch_nets import mlp  # noqa: E402
from labelwise.strategies import get_strategy  # noqa: E402


@pytest.fixture(scope="module")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def multilabel() -> tuple[np.ndarray, np.ndarray]:
    X, Y = make_multilabel_classification(300, n_features=10, n_classes=5, random_state=0)
    return StandardScaler().fit_transform(X), Y


def _regressor(n_features: int) -> TorchRegressor:
    return TorchRegressor(
        mlp(n_features, 1, hidden=32, dropout=0.2),
        epochs=1,
        min_steps=150,
        lr=1e-2,
        batch_size=32,
        random_state=0,
    )


def _multilabel(n_features: int, n_labels: int) -> TorchMultilabel:
    return TorchMultilabel(
        mlp(n_features, n_labels, hidden=32, dropout=0.2),
        epochs=1,
        min_steps=150,
        lr=1e-2,
        batch_size=32,
        random_state=0,
    )


def test_regressor_beats_the_mean_on_held_out_diabetes_rows(diabetes) -> None:
    X, y = diabetes
    model = _regressor(X.shape[1]).fit(X[:300], y[:300])
    pred = model.predict(X[300:])
    assert pred.shape == (len(X) - 300,)
    assert r2_score(y[300:], pred) > 0.2  # a constant predictor scores <= 0
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_regressor_mc_samples_vary_are_seeded_and_centre_on_the_prediction(diabetes) -> None:
    X, y = diabetes
    model = _regressor(X.shape[1]).fit(X[:300], y[:300])
    samples = model.sample_predict(X[300:], 30, rng=1)
    assert samples.shape == (30, len(X) - 300)
    assert (samples.std(axis=0) > 0).all()  # dropout masks differ between passes
    np.testing.assert_array_equal(samples, model.sample_predict(X[300:], 30, rng=1))
    assert not np.array_equal(samples, model.sample_predict(X[300:], 30, rng=2))
    # inverted dropout: the mean of many passes is near the eval-mode prediction
    spread = np.abs(samples.mean(axis=0) - model.predict(X[300:]))
    assert np.median(spread) < 0.5 * y.std()


def test_regressor_undoes_the_target_scaling(diabetes) -> None:
    X, y = diabetes
    model = _regressor(X.shape[1]).fit(X[:200], y[:200])
    assert model.y_mean_ == pytest.approx(y[:200].mean())
    assert model.y_scale_ == pytest.approx(y[:200].std())
    # the network's raw outputs, rescaled by hand, are the predictions
    with torch.no_grad():
        raw = model.module_(torch.as_tensor(X[:5], dtype=torch.float32)).double().numpy()[:, 0]
    np.testing.assert_allclose(model.predict(X[:5]), raw * y[:200].std() + y[:200].mean())


def test_multilabel_beats_predicting_no_label(multilabel) -> None:
    X, Y = multilabel
    model = _multilabel(X.shape[1], Y.shape[1]).fit(X[:200], Y[:200])
    proba = model.predict_label_proba(X[200:])
    assert proba.shape == (100, Y.shape[1]) and ((proba > 0) & (proba < 1)).all()
    np.testing.assert_array_equal(model.predict(X[200:]), (proba >= 0.5).astype(np.int64))
    micro = f1_score(Y[200:], model.predict(X[200:]), average="micro")
    zeros = f1_score(Y[200:], np.zeros_like(Y[200:]), average="micro", zero_division=0)
    assert micro > zeros + 0.3


def test_multilabel_proba_is_the_sigmoid_of_the_logits(multilabel) -> None:
    X, Y = multilabel
    model = _multilabel(X.shape[1], Y.shape[1]).fit(X[:50], Y[:50])
    with torch.no_grad():
        logits = model.module_(torch.as_tensor(X[:7], dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(model.predict_label_proba(X[:7]), 1 / (1 + np.exp(-logits)))


def test_the_classifier_still_trains_by_cross_entropy() -> None:
    X, Y = make_multilabel_classification(80, n_features=4, n_classes=2, random_state=1)
    y = Y[:, 0]
    model = TorchModel(mlp(4, 2, hidden=8), [0, 1], min_steps=5, random_state=0).fit(X, y)
    assert model.classes_.tolist() == [0, 1]
    assert model.predict_proba(X[:3]).sum(axis=1) == pytest.approx(1.0)


def test_bad_shapes_and_misuse_are_refused(diabetes, multilabel) -> None:
    X, y = diabetes
    Xm, Y = multilabel
    with pytest.raises(InvalidInputError, match=r"shape \(N, 1\)"):
        TorchRegressor(mlp(X.shape[1], 3), min_steps=1).fit(X[:10], y[:10])
    with pytest.raises(InvalidInputError, match="1-dimensional"):
        TorchRegressor(mlp(X.shape[1], 1), min_steps=1).fit(X[:10], np.zeros((10, 2)))
    with pytest.raises(InvalidInputError, match="one logit per label"):
        TorchMultilabel(mlp(Xm.shape[1], 2), min_steps=1).fit(Xm[:10], Y[:10])
    with pytest.raises(InvalidInputError, match="only 0 and 1"):
        TorchMultilabel(mlp(Xm.shape[1], 5), min_steps=1).fit(Xm[:10], Y[:10] * 2)
    with pytest.raises(InvalidInputError, match="threshold"):
        TorchMultilabel(mlp(2, 2), threshold=1.0)
    model = TorchRegressor(mlp(X.shape[1], 1), min_steps=1).fit(X[:10], y[:10])
    with pytest.raises(InvalidInputError, match="regression model: it has no predict_proba"):
        model.predict_proba(X[:2])
    with pytest.raises(InvalidInputError, match="n_samples"):
        model.sample_predict(X[:2], 0)
    with pytest.raises(InvalidInputError, match="no dropout layer"):
        no_dropout = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 1))
        TorchRegressor(no_dropout, min_steps=1).fit(X[:10], y[:10]).sample_predict(X[:2], 3)
    with pytest.raises(InvalidInputError, match="proba"):
        check_runnable(get_strategy("entropy"), model)


def test_a_predictive_variance_round_runs_with_the_regressor(diabetes) -> None:
    X, y = diabetes
    engine = RoundEngine(_regressor(X.shape[1]), "predictive_variance", n_samples=8)
    cold = engine.select(X, 10, rng=0)
    engine.fit(X[cold.indices], y[cold.indices])
    warm = engine.select(X, 5, rng=0, exclude=cold.indices)
    assert not warm.cold and warm.strategy == "predictive_variance"
    assert len(set(warm.indices.tolist())) == 5
    assert not set(warm.indices.tolist()) & set(cold.indices.tolist())
    # the picks are the top MC Dropout variances among the unlabeled rows
    variance = engine.model.sample_predict(X, 8, rng=0).var(axis=0)
    variance[cold.indices] = -np.inf
    assert set(warm.indices.tolist()) == set(np.argsort(-variance)[:5].tolist())


def test_a_multilabel_mean_margin_round_runs_with_the_sigmoid_head(multilabel) -> None:
    X, Y = multilabel
    engine = RoundEngine(_multilabel(X.shape[1], Y.shape[1]), "multilabel_mean_margin")
    cold = engine.select(X, 12, rng=0)
    engine.fit(X[cold.indices], Y[cold.indices])
    warm = engine.select(X, 6, rng=0, exclude=cold.indices)
    assert not warm.cold and warm.strategy == "multilabel_mean_margin"
    assert not set(warm.indices.tolist()) & set(cold.indices.tolist())
    # mean margin |2p - 1| over labels, smallest first, among the unlabeled rows
    margin = np.abs(2 * engine.model.predict_label_proba(X) - 1).mean(axis=1)
    margin[cold.indices] = np.inf
    assert set(warm.indices.tolist()) == set(np.argsort(margin)[:6].tolist())
