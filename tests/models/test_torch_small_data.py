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


def _blobs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return rng.normal(size=(n, 4)) + 3.0 * y[:, None], y


def test_early_stopping_keeps_the_pass_with_the_lowest_held_out_loss() -> None:
    X, y = _blobs(60)
    y_noisy = y.copy()
    y_noisy[::4] = (y_noisy[::4] + 1) % 3  # a quarter of wrong labels to overfit on
    model = TorchModel(
        mlp(4, 3),
        [0, 1, 2],
        epochs=300,
        min_steps=0,
        batch_size=16,
        validation_fraction=0.25,
        patience=5,
        random_state=0,
    ).fit(X, y_noisy)
    curve = model.validation_curve_
    assert len(curve) == len(model.loss_curve_) < 300  # it stopped early
    best = int(np.argmin(curve))
    assert len(curve) - 1 - best == 5  # exactly `patience` passes without improvement
    held = model.validation_rows_
    assert len(held) == 15
    logits = model.module_(torch.as_tensor(X[held], dtype=torch.float32))
    kept = float(torch.nn.functional.cross_entropy(logits, torch.as_tensor(y_noisy[held])).detach())
    assert kept == pytest.approx(min(curve), rel=1e-5)  # the best pass's weights, not the last


def test_without_a_validation_fraction_every_label_trains_and_no_curve_is_kept() -> None:
    X, y = _blobs(30)
    model = TorchModel(mlp(4, 3), [0, 1, 2], epochs=3, min_steps=0, random_state=0).fit(X, y)
    assert model.validation_curve_ == [] and len(model.loss_curve_) == 3
    assert model.validation_rows_.size == 0


def test_too_few_rows_to_hold_out_train_on_every_label() -> None:
    X, y = _blobs(6)
    model = TorchModel(
        mlp(4, 3), [0, 1, 2], epochs=2, min_steps=0, validation_fraction=0.2, random_state=0
    ).fit(X, y)
    assert model.validation_curve_ == []  # 6 x 0.2 < 2 held-out rows: no early stopping


@pytest.mark.parametrize(("field", "value"), [("validation_fraction", 1.0), ("patience", 0)])
def test_early_stopping_settings_are_checked(field: str, value: float) -> None:
    with pytest.raises(InvalidInputError, match=field):
        TorchModel(mlp(4, 3), [0, 1, 2], **{field: value})
