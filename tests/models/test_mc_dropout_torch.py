"""mc_dropout: dropout on at inference, everything else untouched, undone on exit."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from labelwise.errors import InvalidInputError  # noqa: E402
from labelwise.models.mc_dropout_torch import SeededDropout, mc_dropout, seeded_dropout  # noqa: E402


def net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 2))


def test_dropout_is_on_inside_and_restored_after() -> None:
    model = net().eval()
    with mc_dropout(model):
        assert model[2].training
        assert not model[1].training  # BatchNorm stays in eval mode
    assert not model[2].training


def test_flags_are_restored_after_an_exception() -> None:
    model = net().eval()
    with pytest.raises(RuntimeError), mc_dropout(model, torch.Generator().manual_seed(0)):
        raise RuntimeError("boom")
    assert not model[2].training and isinstance(model[2], nn.Dropout)


def test_passes_differ_but_batchnorm_statistics_do_not_move() -> None:
    model = net().eval()
    before = model[1].running_mean.clone()
    x = torch.randn(16, 4)
    with mc_dropout(model):
        a, b = model(x), model(x)
    assert not torch.equal(a, b)
    assert torch.equal(model[1].running_mean, before)


def test_a_seeded_generator_repeats_the_masks_and_leaves_global_state_alone() -> None:
    model, x = net().eval(), torch.randn(16, 4)
    state = torch.get_rng_state()
    outs = []
    for _ in range(2):
        with mc_dropout(model, torch.Generator().manual_seed(3)):
            outs.append(model(x))
    assert torch.equal(outs[0], outs[1])
    assert torch.equal(torch.get_rng_state(), state)
    assert isinstance(model[2], nn.Dropout)  # swapped back


def test_seeded_dropout_drops_a_fraction_p_and_keeps_the_mean() -> None:
    layer = SeededDropout(0.3, torch.Generator().manual_seed(0)).train()
    out = layer(torch.ones(200_000, dtype=torch.float64))
    assert abs(float((out == 0).double().mean()) - 0.3) < 0.01
    assert abs(float(out.mean()) - 1.0) < 0.01


def test_channel_dropout_drops_whole_channels() -> None:
    model = nn.Sequential(nn.Dropout2d(0.5)).eval()
    x = torch.ones(8, 6, 3, 3)
    with mc_dropout(model, torch.Generator().manual_seed(1)):
        out = model(x)
    per_channel = out.reshape(8, 6, 9)
    assert torch.equal(per_channel.amin(dim=2), per_channel.amax(dim=2))
    assert (per_channel == 0).any() and (per_channel == 2).any()


def test_seeded_dropout_follows_the_train_flag_it_replaced() -> None:
    model = net().train()
    with seeded_dropout(model, torch.Generator().manual_seed(0)):
        assert isinstance(model[2], SeededDropout) and model[2].training
        model.eval()
    assert isinstance(model[2], nn.Dropout) and not model[2].training


def test_a_network_without_dropout_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="no dropout"), mc_dropout(nn.Linear(2, 2)):
        pass
