"""DeepEnsemble: independently initialised members, their mean and their spread."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from labelwise.models.ensemble_torch import DeepEnsemble  # noqa: E402
from labelwise.models.torch_nets import mlp  # noqa: E402


def ensemble(seed: int | None = 0, n_members: int = 3) -> DeepEnsemble:
    return DeepEnsemble(
        lambda: mlp(4, 3, hidden=8), n_members, classes=[0, 1, 2], epochs=2, random_state=seed
    )


def test_members_start_from_different_weights_and_predict_differently(data) -> None:
    model = ensemble().fit(*data)
    first = [p.detach() for p in model.members_[0].module_.parameters()]
    second = [p.detach() for p in model.members_[1].module_.parameters()]
    assert not torch.equal(first[0], second[0])
    members = model.committee_proba(data[0])
    assert members.shape == (3, len(data[0]), 3)
    assert not np.allclose(members[0], members[1])


def test_predict_proba_is_the_members_mean_and_samples_are_members(data) -> None:
    model = ensemble().fit(*data)
    X = data[0]
    members = model.committee_proba(X)
    np.testing.assert_allclose(model.predict_proba(X), members.mean(axis=0))
    # an ensemble's samples are its members, whatever number is asked
    np.testing.assert_array_equal(model.sample_proba(X, 2, rng=0), members)
    np.testing.assert_array_equal(model.sample_proba(X, 20, rng=0), members)


def test_warm_start_keeps_the_members_between_fits(data) -> None:
    model = ensemble().fit(*data)
    members = list(model.members_)
    model.fit(*data)
    assert all(a is b for a, b in zip(model.members_, members, strict=True))
