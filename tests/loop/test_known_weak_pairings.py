"""A committee of bootstrap clones offered to a BALD-family strategy as a posterior is warned
about (measured below random on digits); pairs with a real posterior, or committee strategies
over the same committee, run silently."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from labelwise.loop import RoundEngine
from labelwise.loop.capabilities import KnownWeakPairing, pairing_warnings
from labelwise.models import BootstrapCommittee, Committee
from labelwise.strategies import get_strategy


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("strategy", ["bald", "batchbald", "variation_ratios", "mean_std"])
def test_bald_family_over_a_bootstrap_committee_warns_once_when_chosen(strategy: str) -> None:
    X, y = _data()
    committee = BootstrapCommittee(LogisticRegression(), n_members=3, random_state=0)
    with pytest.warns(KnownWeakPairing, match="below random") as caught:
        engine = RoundEngine(committee, strategy, dense_features=True)
    assert len(caught) == 1
    assert "TorchModel" in str(caught[0].message)  # names a posterior that works
    with warnings.catch_warnings():
        warnings.simplefilter("error", KnownWeakPairing)
        engine.fit(X[:20], y[:20])  # the pair was judged when chosen, not again per round
        assert engine.select(X[20:], 5, 0).indices.size == 5  # a warning, not a refusal


@pytest.mark.parametrize("strategy", ["vote_entropy", "consensus_entropy", "margin"])
def test_committee_strategies_over_a_bootstrap_committee_are_not_warned(strategy: str) -> None:
    committee = BootstrapCommittee(LogisticRegression(), n_members=3)
    assert pairing_warnings(get_strategy(strategy), committee) == []


def test_a_committee_of_different_models_is_not_a_bootstrap_posterior() -> None:
    committee = Committee([LogisticRegression(), GaussianNB()], bootstrap=True)
    assert pairing_warnings(get_strategy("bald"), committee) == []


def test_mc_dropout_is_a_posterior_bald_may_read() -> None:
    torch = pytest.importorskip("torch")
    from labelwise.models.torch_model import TorchModel
    from labelwise.models.torch_nets import mlp

    del torch
    assert pairing_warnings(get_strategy("bald"), TorchModel(mlp(3, 2), [0, 1])) == []
