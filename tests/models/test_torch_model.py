"""TorchModel: training, warm start, seeds, MC Dropout samples, embeddings, BADGE gradients."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from labelwise.errors import InvalidInputError  # noqa: E402
from labelwise.models.torch_model import TorchModel  # noqa: E402
from labelwise.models.torch_nets import mlp  # noqa: E402


def model(seed: int | None = 0, module: nn.Module | None = None, **params) -> TorchModel:
    settings = {
        "epochs": 8,
        "batch_size": 16,
        "lr": 0.02,
        "min_steps": 0,  # exactly ``epochs`` passes: these tests are about the mechanics
        "random_state": seed,
        **params,
    }
    net = mlp(4, 3, hidden=16, dropout=0.3) if module is None else module
    return TorchModel(net, [0, 1, 2], **settings)


@pytest.fixture(scope="module")
def trained() -> TorchModel:
    from tests.models.conftest import blobs

    torch.set_num_threads(1)
    return model(epochs=15).fit(*blobs())


def test_training_lowers_the_loss_and_fits_separable_data(trained: TorchModel, data) -> None:
    X, y = data
    assert trained.loss_curve_[-1] < 0.5 * trained.loss_curve_[0]
    assert (trained.predict_proba(X).argmax(axis=1) == y).mean() >= 0.95


def test_fit_never_changes_the_module_passed_in(data) -> None:
    m = model()
    before = [p.detach().clone() for p in m.module.parameters()]
    m.fit(*data)
    assert m.module_ is not m.module
    for p, q in zip(m.module.parameters(), before, strict=True):
        assert torch.equal(p, q)


def test_warm_start_continues_from_the_last_weights(data) -> None:
    m = model(warm_start=True).fit(*data)
    first = m.loss_curve_
    m.fit(*data)
    assert m.loss_curve_[0] < 0.8 * first[0]


def test_without_warm_start_every_fit_starts_again_from_the_seeded_weights(data) -> None:
    m = model(warm_start=False).fit(*data)
    first = list(m.loss_curve_)
    assert m.fit(*data).loss_curve_ == first


def test_random_state_decides_the_model_without_touching_global_state(data) -> None:
    a, b, c = model(1), model(1), model(2)  # building the networks draws from global state
    state = torch.get_rng_state()
    a, b, c = a.fit(*data), b.fit(*data), c.fit(*data)
    X = data[0]
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    a.sample_proba(X, 2, rng=0)
    assert torch.equal(torch.get_rng_state(), state)


def test_predict_proba_runs_in_eval_mode(trained: TorchModel, data) -> None:
    X = data[0]
    with torch.no_grad():
        expected = torch.softmax(trained.module_.eval()(torch.as_tensor(X)).double(), dim=1)
    np.testing.assert_allclose(trained.predict_proba(X), expected.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(trained.predict_proba(X), trained.predict_proba(X))


def test_mc_samples_vary_and_repeat_for_a_seed(trained: TorchModel, data) -> None:
    X = data[0]
    samples = trained.sample_proba(X, 5, rng=4)
    assert samples.shape == (5, len(X), 3)
    assert not np.allclose(samples[0], samples[1])
    np.testing.assert_array_equal(samples, trained.sample_proba(X, 5, rng=4))
    assert not trained.module_[2].training  # dropout switched off again


def test_mc_samples_equal_k_full_passes_of_the_network(data) -> None:
    # The layers before the first dropout run once per input; the samples must be those of K
    # plain stochastic passes drawing their masks from the same generator.
    from labelwise.models.mc_dropout_torch import mc_dropout
    from labelwise.models.torch_nets import gal_cnn

    X = np.random.default_rng(0).random((12, 784), dtype=np.float32)
    m = TorchModel(gal_cnn(3), [0, 1, 2], epochs=1, min_steps=0, random_state=0).fit(
        X, np.arange(12) % 3
    )
    fast = m.sample_proba(X, 4, rng=9)
    seed = int(np.random.default_rng(9).integers(2**62))
    with torch.no_grad(), mc_dropout(m.module_, torch.Generator().manual_seed(seed)):
        logits = torch.stack([m.module_(torch.as_tensor(X)) for _ in range(4)])
    np.testing.assert_allclose(fast, torch.softmax(logits.double(), dim=2).numpy(), atol=1e-12)


def test_split_at_first_dropout_keeps_dropout_out_of_the_head() -> None:
    from labelwise.models.mc_dropout_torch import split_at_first_dropout

    block = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), block, nn.Linear(4, 2))
    head, tail = split_at_first_dropout(net)
    assert list(head) == [net[0], net[1]] and list(tail) == [block, net[3]]
    x = torch.randn(3, 4)
    net.eval()
    assert torch.equal(tail(head(x)), net(x))
    other = nn.Linear(4, 2)  # not a Sequential: nothing can be split off
    head, tail = split_at_first_dropout(other)
    assert isinstance(head, nn.Identity) and tail is other


def test_weight_decay_reaches_only_the_named_parameters(data) -> None:
    X, y = data

    class WithSpare(nn.Sequential):
        """An MLP with one more parameter whose loss gradient is exactly zero."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) + 0.0 * self.spare.sum()

    def fitted(decay_params: tuple[str, ...]) -> TorchModel:
        net = WithSpare(*mlp(4, 3, hidden=8))
        net.register_parameter("spare", nn.Parameter(torch.ones(5)))
        return model(weight_decay=0.5, decay_params=decay_params, module=net).fit(X, y)

    assert float(fitted(("spare",)).module_.spare.detach().max()) < 1.0
    assert torch.equal(fitted(("0.weight",)).module_.spare.detach(), torch.ones(5))
    with pytest.raises(InvalidInputError, match=r"0\.wieght"):
        fitted(("0.wieght",))


def test_an_unknown_init_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="lecun"):
        model(init="lecun")


def test_mc_dropout_keeps_batchnorm_in_eval_mode(data) -> None:
    X, y = data
    net = nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3)
    )
    m = TorchModel(net, [0, 1, 2], epochs=2, batch_size=17, random_state=0).fit(X, y)
    stats = m.module_[1].running_mean.clone()
    m.sample_proba(X[:5], 3, rng=0)
    assert torch.equal(m.module_[1].running_mean, stats)


def test_embed_is_the_input_of_the_last_linear_layer(trained: TorchModel, data) -> None:
    X = data[0]
    with torch.no_grad():
        expected = trained.module_[:-1].eval()(torch.as_tensor(X)).double().numpy()
    np.testing.assert_allclose(trained.embed(X), expected, rtol=1e-6)


def test_a_named_embedding_layer_is_hooked_instead(data) -> None:
    m = model(embedding_layer="1", epochs=1).fit(*data)
    X = data[0]
    with torch.no_grad():
        expected = m.module_[0](torch.as_tensor(X)).double().numpy()
    np.testing.assert_allclose(m.embed(X), expected, rtol=1e-6)
    with pytest.raises(InvalidInputError, match="no layer named"):
        TorchModel(mlp(4, 3), [0, 1, 2], embedding_layer="head", epochs=1).fit(*data).embed(X)


def test_grad_embed_is_the_autograd_gradient_at_the_predicted_label(
    trained: TorchModel, data
) -> None:
    X = data[0][:6]
    fast = trained.grad_embed(X)
    head = trained.module_[-1]
    for i in range(len(X)):
        x = torch.as_tensor(X[i : i + 1])
        head.zero_grad()
        logits = trained.module_.eval()(x)
        F.cross_entropy(logits, logits.argmax(dim=1)).backward()
        np.testing.assert_allclose(fast[i], head.weight.grad.flatten().numpy(), atol=1e-5)


def test_a_module_with_the_wrong_number_of_outputs_is_refused(data) -> None:
    with pytest.raises(InvalidInputError, match="one logit per class"):
        TorchModel(mlp(4, 2), [0, 1, 2], epochs=1).fit(*data)


def test_nan_features_are_refused(data) -> None:
    X, y = data
    X = X.copy()
    X[3, 1] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        model().fit(X, y)
