"""TorchModel's defaults train on the few labels active learning starts with: a minimum of
optimizer steps per fit, so the default network is competitive with logistic regression on 30
and 100 digits (fixed epochs alone took 10 steps on 30 items: 0.18-0.43 accuracy)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from labelwise.errors import InvalidInputError  # noqa: E402
from labelwise.models.torch_model import TorchModel  # noqa: E402
from labelwise.models.torch_nets import mlp  # noqa: E402


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(1797)
    return order[:n], order[1000:]


@pytest.mark.slow
@pytest.mark.parametrize("n", [30, 100])
def test_default_network_is_competitive_with_logistic_regression(n: int) -> None:
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    net, logreg = [], []
    for seed in range(3):
        train, test = _split(n, seed)
        model = TorchModel(mlp(64, 10), list(range(10)), random_state=seed).fit(X[train], y[train])
        net.append(np.mean(model.predict_proba(X[test]).argmax(axis=1) == y[test]))
        lr = LogisticRegression(max_iter=2000).fit(X[train], y[train])
        logreg.append(lr.score(X[test], y[test]))
    assert np.mean(net) >= np.mean(logreg) - 0.05, (net, logreg)
    assert min(net) >= 0.6


def test_small_sets_get_more_passes_and_large_ones_keep_epochs() -> None:
    model = TorchModel(mlp(4, 3), [0, 1, 2], epochs=10, batch_size=64, min_steps=200)
    assert model.epochs_for(30) == 200  # one batch per pass
    assert model.epochs_for(640) == 20  # ten batches per pass
    assert model.epochs_for(64_000) == 10
    exact = TorchModel(mlp(4, 3), [0, 1, 2], epochs=10, min_steps=0)
    assert exact.epochs_for(30) == 10


def test_the_loss_curve_has_one_entry_per_pass_taken() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4)), np.arange(20) % 3
    model = TorchModel(mlp(4, 3), [0, 1, 2], epochs=2, batch_size=8, min_steps=9, random_state=0)
    assert len(model.fit(X, y).loss_curve_) == 3  # 20 items: 3 batches per pass


def test_min_steps_is_checked() -> None:
    with pytest.raises(InvalidInputError, match="min_steps"):
        TorchModel(mlp(4, 3), [0, 1, 2], min_steps=-1)
