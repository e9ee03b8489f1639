"""The simulation networks and their re-initialisation from a generator."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from labelwise.models.torch_nets import gal_cnn, mlp, reset_parameters  # noqa: E402


def test_gal_cnn_has_the_keras_models_parameter_count() -> None:
    # conv 1->32 4x4: 544, conv 32->32 4x4: 16,416, dense 32*11*11->128: 495,744,
    # dense 128->10: 1,290
    assert sum(p.numel() for p in gal_cnn(10).parameters()) == 513_994


@pytest.mark.parametrize("shape", [(2, 784), (2, 28, 28), (2, 1, 28, 28)])
def test_gal_cnn_takes_flat_or_image_inputs(shape: tuple[int, ...]) -> None:
    assert gal_cnn(7).eval()(torch.zeros(shape)).shape == (2, 7)


def test_mlp_outputs_logits_from_a_hidden_layer_with_dropout() -> None:
    net = mlp(5, 3, hidden=11, dropout=0.25)
    assert net(torch.zeros(4, 5)).shape == (4, 3)
    assert [type(m) for m in net] == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert net[2].p == 0.25 and net[3].in_features == 11


def test_reset_parameters_is_deterministic_and_leaves_global_state_alone() -> None:
    a = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Conv1d(5, 2, 3))
    b = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Conv1d(5, 2, 3))
    state = torch.get_rng_state()
    reset_parameters(a, torch.Generator().manual_seed(0))
    reset_parameters(b, torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), state)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_reset_parameters_uses_pytorchs_default_bounds() -> None:
    layer = nn.Linear(400, 300)
    reset_parameters(layer, torch.Generator().manual_seed(1))
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) and the bias both give 1/sqrt(fan_in)
    for param in (layer.weight.detach(), layer.bias.detach()):
        assert float(param.abs().max()) <= bound
        assert float(param.abs().max()) > 0.95 * bound


def test_glorot_uniform_draws_keras_bounds_and_zero_biases() -> None:
    conv = nn.Conv2d(32, 16, kernel_size=4)
    reset_parameters(conv, torch.Generator().manual_seed(2), "glorot_uniform")
    limit = math.sqrt(6 / (32 * 16 + 16 * 16))  # fan_in = 32 * 4 * 4, fan_out = 16 * 4 * 4
    weight = conv.weight.detach()
    assert float(weight.abs().max()) <= limit
    assert float(weight.abs().max()) > 0.95 * limit
    assert not conv.bias.detach().any()


def test_an_unknown_init_scheme_is_refused() -> None:
    from labelwise.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="he_normal"):
        reset_parameters(nn.Linear(2, 2), torch.Generator(), "he_normal")  # type: ignore[arg-type]


def test_gal_cnn_names_the_one_regularised_kernel() -> None:
    from labelwise.models.torch_nets import GAL_CNN_DECAYED

    named = dict(gal_cnn(10).named_parameters())
    assert set(GAL_CNN_DECAYED) <= set(named)
    assert named["dense.weight"].shape == (128, 32 * 11 * 11)
