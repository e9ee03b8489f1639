"""The simulation's models: logreg standardises on the pool, warm starts reach the same fit."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.errors import InvalidInputError
from labelwise.simulate.models import PoolStandardizer, make_model


def _blobs(n: int = 300, d: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    X = rng.normal(size=(n, d)) + y[:, None] * 0.8
    X[:, -1] = 5.0  # a feature constant over the pool
    return X, y


def test_the_pool_standardizer_uses_the_pools_statistics() -> None:
    X, _ = _blobs()
    z = PoolStandardizer.from_pool(X).transform(X)
    np.testing.assert_allclose(z[:, :-1].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z[:, :-1].std(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(z[:, -1], 0.0)  # constant feature: scale 1, not a division by 0


def test_logreg_features_do_not_move_as_the_labeled_set_grows() -> None:
    X, y = _blobs()
    model = make_model("logreg", 3, X.shape[1], seed=0, pool_features=X)
    model.fit(X[:10], y[:10])
    first = model.estimator_[0].transform(X[:5])
    model.fit(X[:200], y[:200])
    np.testing.assert_array_equal(model.estimator_[0].transform(X[:5]), first)


def test_logreg_without_the_pool_says_what_to_pass() -> None:
    with pytest.raises(InvalidInputError, match="pool_features"):
        make_model("logreg", 3, 20, seed=0)
    with pytest.raises(InvalidInputError, match="'pool' or 'labeled'"):
        make_model(
            "logreg", 3, 20, seed=0, params={"standardize": "test"}, pool_features=np.ones((2, 20))
        )


def test_labeled_standardization_is_still_available() -> None:
    X, y = _blobs()
    model = make_model("logreg", 3, X.shape[1], seed=0, params={"standardize": "labeled"})
    proba = model.fit(X[:50], y[:50]).predict_proba(X)
    assert proba.shape == (300, 3)


def test_a_warm_started_logreg_reaches_the_cold_fit() -> None:
    X, y = _blobs()
    tight = {"tol": 1e-8}  # the same convex problem solved closely: the same optimum
    warm = make_model(
        "logreg", 3, X.shape[1], 0, params={**tight, "warm_start": True}, pool_features=X
    )
    cold = make_model("logreg", 3, X.shape[1], 0, params=tight, pool_features=X)
    for n in (30, 40, 50):
        warm.fit(X[:n], y[:n])
    cold.fit(X[:50], y[:50])
    np.testing.assert_allclose(warm.predict_proba(X), cold.predict_proba(X), atol=1e-5)


def test_the_cnn_follows_the_keras_code_of_gal_et_al() -> None:
    pytest.importorskip("torch")
    from labelwise.models.torch_nets import GAL_CNN_DECAYED

    model = make_model(
        "cnn",
        10,
        784,
        seed=0,
        image_shape=(28, 28),
        params={"weight_decay_per_label": 3.5, "epochs": 1},
    )
    inner = model.model  # type: ignore[attr-defined]
    assert inner.init == "glorot_uniform" and inner.decay_params == GAL_CNN_DECAYED
    X = np.random.default_rng(0).random((40, 784), dtype=np.float32)
    model.fit(X, np.arange(40) % 10)
    # Keras's l2(3.5 / N) adds 3.5 / N * sum(w**2) to the loss: Adam's decay is twice that
    assert inner.weight_decay == pytest.approx(2 * 3.5 / 40)
