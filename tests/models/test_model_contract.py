"""The contract every model adapter keeps (cf. sklearn's ``parametrize_with_checks``): shapes,
rows summing to one, columns following ``classes``, determinism for a seed, NotFittedError before
fit, and ``compute_inputs`` giving every input a strategy can need."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from labelwise.errors import InvalidInputError, NotFittedError
from labelwise.models import (
    BootstrapCommittee,
    SklearnModel,
    SupportsCommittee,
    SupportsEmbedding,
    SupportsGradEmbedding,
    SupportsSampling,
    compute_inputs,
)
from labelwise.strategies import INPUT_NAMES, available_strategies, get_strategy
from tests.models.conftest import blobs

#: Label space in a deliberately unsorted order: columns must follow it, not sorted order.
CLASSES = np.array([2, 0, 1])


def _sklearn(seed: int) -> Any:
    return SklearnModel(LogisticRegression(max_iter=500), classes=CLASSES)


def _committee(seed: int) -> Any:
    return BootstrapCommittee(LogisticRegression(max_iter=500), 4, CLASSES, random_state=seed)


def _torch(seed: int) -> Any:
    from labelwise.models.torch_model import TorchModel
    from labelwise.models.torch_nets import mlp

    net = mlp(4, 3, hidden=16, dropout=0.2)
    return TorchModel(net, CLASSES, epochs=15, batch_size=16, lr=0.02, random_state=seed)


def _mixed_committee(seed: int) -> Any:
    from sklearn.naive_bayes import GaussianNB
    from sklearn.tree import DecisionTreeClassifier

    from labelwise.models import Committee

    members = [LogisticRegression(max_iter=300), GaussianNB(), DecisionTreeClassifier(max_depth=3)]
    return Committee(members, classes=CLASSES, random_state=seed)


def _ensemble(seed: int) -> Any:
    from labelwise.models.ensemble_torch import DeepEnsemble
    from labelwise.models.torch_nets import mlp

    return DeepEnsemble(
        lambda: mlp(4, 3, hidden=8, dropout=0.2),
        3,
        classes=CLASSES,
        epochs=10,
        batch_size=16,
        lr=0.02,
        random_state=seed,
    )


ADAPTERS: dict[str, Callable[[int], Any]] = {
    "sklearn": _sklearn,
    "committee": _committee,
    "mixed_committee": _mixed_committee,
    "torch": _torch,
    "ensemble": _ensemble,
}
X, Y = blobs()
_FITTED: dict[str, Any] = {}


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> str:
    return request.param


def fitted(name: str) -> Any:
    """One fitted model per adapter, shared by the read-only checks (fits are the slow part)."""
    if name not in _FITTED:
        _FITTED[name] = ADAPTERS[name](0).fit(X, Y)
    return _FITTED[name]


def test_predictions_before_fit_raise_not_fitted(adapter: str) -> None:
    model = ADAPTERS[adapter](0)
    calls = [lambda: model.predict_proba(X)]
    if isinstance(model, SupportsSampling):
        calls.append(lambda: model.sample_proba(X, 2, rng=0))
    if isinstance(model, SupportsEmbedding):
        calls.append(lambda: model.embed(X))
    if isinstance(model, SupportsGradEmbedding):
        calls.append(lambda: model.grad_embed(X))
    for call in calls:
        with pytest.raises(NotFittedError, match="fit"):
            call()


def test_proba_has_one_row_per_item_summing_to_one(adapter: str) -> None:
    proba = fitted(adapter).predict_proba(X[:7])
    assert proba.shape == (7, 3)
    assert (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_columns_follow_the_declared_classes(adapter: str) -> None:
    model = fitted(adapter)
    np.testing.assert_array_equal(model.classes_, CLASSES)
    predicted = model.classes_[model.predict_proba(X).argmax(axis=1)]
    assert (predicted == Y).mean() >= 0.9  # separable blobs: wrong columns would score ~1/3


def test_same_seed_gives_the_same_model(adapter: str) -> None:
    a, b = ADAPTERS[adapter](7).fit(X, Y), ADAPTERS[adapter](7).fit(X, Y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    if isinstance(a, SupportsSampling):
        np.testing.assert_array_equal(a.sample_proba(X, 2, rng=3), b.sample_proba(X, 2, rng=3))


def test_labels_outside_the_classes_are_refused(adapter: str) -> None:
    y = Y.copy()
    y[0] = 9
    with pytest.raises(InvalidInputError, match="not in classes"):
        ADAPTERS[adapter](0).fit(X, y)


def test_x_and_y_of_different_lengths_are_refused(adapter: str) -> None:
    with pytest.raises(InvalidInputError, match="rows"):
        ADAPTERS[adapter](0).fit(X, Y[:-1])


def test_sample_proba_is_k_by_n_by_c(adapter: str) -> None:
    model = fitted(adapter)
    if not isinstance(model, SupportsSampling):
        pytest.skip("this adapter does not sample")
    samples = model.sample_proba(X[:5], 2, rng=0)
    # MC Dropout draws as many samples as asked; a committee answers with its members
    members = getattr(model, "members_", None)
    assert samples.shape == (2 if members is None else len(members), 5, 3)
    np.testing.assert_allclose(samples.sum(axis=2), 1.0, atol=1e-6)


def test_compute_inputs_gives_every_input_a_strategy_can_need(adapter: str) -> None:
    model = fitted(adapter)
    needs = {"proba", "embeddings", "labeled_embeddings"}
    if isinstance(model, SupportsSampling):
        needs |= {"samples", "committee_proba"}
    if isinstance(model, SupportsCommittee):
        needs.add("committee_proba")
    if isinstance(model, SupportsGradEmbedding):
        needs.add("grad_embeddings")
    inputs = compute_inputs(model, X, needs, X_labeled=X[:9], n_samples=2, rng=0)
    assert inputs.n_pool == len(X)
    assert set(needs) <= {name for name in INPUT_NAMES if getattr(inputs, name) is not None}
    assert inputs.proba is not None and inputs.proba.shape == (len(X), 3)
    assert inputs.embeddings is not None and inputs.labeled_embeddings is not None
    assert inputs.labeled_embeddings.shape == (9, inputs.embeddings.shape[1])
    for name in available_strategies():
        strategy = get_strategy(name)
        if strategy.needs <= needs:
            sel = strategy.select(inputs, 5, rng=0)
            assert len(set(sel.indices.tolist())) == 5, name


def test_compute_inputs_asks_the_model_for_nothing_a_strategy_did_not_declare(
    adapter: str,
) -> None:
    model = ADAPTERS[adapter](0)  # unfitted: any call to it would raise
    inputs = compute_inputs(model, X, frozenset())
    assert inputs.n_pool == len(X)
    assert get_strategy("random").select(inputs, 4, rng=0).indices.size == 4
