"""Distance-based strategies over a model without embeddings see standardised features: a
feature's units (scaled by 1000) change none of their picks, in a round or in the cold start."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from labelwise.loop import RoundEngine
from labelwise.models import SklearnModel, compute_inputs
from labelwise.models.inputs import standardize
from labelwise.strategies import coreset


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def _scaled(X: np.ndarray) -> np.ndarray:
    out = X.copy()
    out[:, 4] *= 1000.0  # a feature in other units
    return out


@pytest.mark.parametrize("strategy", ["coreset", "kmeans"])  # BADGE also reads the model's
# probabilities, and an L2-regularised model on rescaled features is another model
@pytest.mark.parametrize("seed", [0, 1])
def test_scaling_one_feature_changes_no_pick(strategy: str, seed: int) -> None:
    X, y = _data(seed)
    picks = []
    for features in (X, _scaled(X)):
        engine = RoundEngine(SklearnModel(LogisticRegression()), strategy)
        engine.fit(features[:20], y[:20])
        picks.append(engine.select(features[20:], 10, np.random.default_rng(seed)).indices)
    np.testing.assert_array_equal(picks[0], picks[1])


def test_raw_distances_would_have_changed_coreset_picks() -> None:
    """The test above can fail: on raw features the scaled feature rules the distances."""
    X, _ = _data(0)
    raw = coreset(X[20:], X[:20], 10)
    scaled = coreset(_scaled(X)[20:], _scaled(X)[:20], 10)
    assert not np.array_equal(raw, scaled)


def test_cold_start_ignores_units() -> None:
    X, _ = _data(2)
    picks = [
        RoundEngine(SklearnModel(LogisticRegression()), "margin")
        .select(features, 8, np.random.default_rng(0))
        .indices
        for features in (X, _scaled(X))
    ]
    np.testing.assert_array_equal(picks[0], picks[1])


def test_compute_inputs_standardises_pool_and_labeled_alike() -> None:
    X, y = _data(3)
    model = SklearnModel(LogisticRegression()).fit(X[:20], y[:20])
    inputs = compute_inputs(
        model, X[20:], frozenset({"embeddings", "labeled_embeddings"}), X_labeled=X[:20]
    )
    mean, std = X[20:].mean(axis=0), X[20:].std(axis=0)
    np.testing.assert_allclose(inputs.embeddings, (X[20:] - mean) / std)
    np.testing.assert_allclose(inputs.labeled_embeddings, (X[:20] - mean) / std)


def test_standardize_leaves_constant_columns_centred() -> None:
    (z,) = standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
    np.testing.assert_allclose(z, [[-1.0, 0.0], [1.0, 0.0]])
