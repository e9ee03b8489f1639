"""MC Dropout as a reversible switch (Gal & Ghahramani 2016): dropout on at inference, undone after.

``mc_dropout(module)`` turns the dropout layers to train mode, leaves every other layer as it was
(BatchNorm stays in eval mode, using its running statistics) and restores the flags on exit, like
baal's ``patch_module`` / ``unpatch_module``. Given a ``torch.Generator``, the dropout layers are
also swapped, for the duration, for :class:`SeededDropout` layers drawing their masks from it, so
T stochastic passes are reproducible without touching torch's global random state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import torch
from torch import nn
from torch.nn.modules.dropout import _DropoutNd

from labelwise.errors import InvalidInputError

#: Layers that drop whole channels (one mask value per sample and channel).
CHANNEL_DROPOUT = (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
#: Dropout layers that :func:`seeded_dropout` replaces.
SWAPPABLE_DROPOUT = (nn.Dropout, *CHANNEL_DROPOUT)
#: Every dropout layer :func:`mc_dropout` switches on (alpha dropout uses torch's global RNG).
DROPOUT_TYPES = (*SWAPPABLE_DROPOUT, nn.AlphaDropout, nn.FeatureAlphaDropout)


class SeededDropout(nn.Module):
    """Inverted dropout whose Bernoulli masks come from an explicit ``torch.Generator``.

    In train mode each kept unit is scaled by ``1 / (1 - p)``, as ``nn.Dropout`` does; with
    ``channelwise`` one mask value covers a whole channel (``nn.Dropout2d``).
    """

    def __init__(self, p: float, generator: torch.Generator, channelwise: bool = False):
        super().__init__()
        self.p = p
        self.generator = generator
        self.channelwise = channelwise

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.p >= 1.0:
            return torch.zeros_like(x)
        shape = (*x.shape[:2], *([1] * (x.dim() - 2))) if self.channelwise else x.shape
        # Bernoulli(1 - p) masks as u >= p for uniform u: the same law as ``bernoulli_``, about
        # three times faster on the CPU (bernoulli_ with a float p draws element by element).
        keep = torch.rand(shape, dtype=x.dtype, device=x.device, generator=self.generator)
        keep.ge_(self.p)
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}, channelwise={self.channelwise}"


def _dropout_slots(module: nn.Module) -> list[tuple[nn.Module, str, _DropoutNd]]:
    """(parent, attribute name, layer) for every swappable dropout layer in ``module``."""
    return [
        (parent, name, child)
        for parent in module.modules()
        for name, child in parent.named_children()
        if isinstance(child, SWAPPABLE_DROPOUT)
    ]


@contextmanager
def seeded_dropout(module: nn.Module, generator: torch.Generator) -> Iterator[nn.Module]:
    """Within the block, dropout layers draw their masks from ``generator``; swapped back after.

    Each replacement keeps the original's train/eval flag, and hands it back on exit.
    """
    slots = _dropout_slots(module)
    for parent, name, layer in slots:
        seeded = SeededDropout(float(layer.p), generator, isinstance(layer, CHANNEL_DROPOUT))
        seeded.train(layer.training)
        parent._modules[name] = seeded
    try:
        yield module
    finally:
        for parent, name, layer in slots:
            layer.train(parent._modules[name].training)  # type: ignore[union-attr]
            parent._modules[name] = layer


@contextmanager
def mc_dropout(module: nn.Module, generator: torch.Generator | None = None) -> Iterator[nn.Module]:
    """Turn the dropout layers of ``module`` to train mode (all else untouched); restore on exit.

    Parameters
    ----------
    module : the network; call ``module.eval()`` first so that BatchNorm uses running statistics.
    generator : optional ``torch.Generator`` on the module's device for reproducible masks.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)).eval()
    >>> with mc_dropout(net):
    ...     net[1].training
    True
    >>> net[1].training
    False
    """
    swap = seeded_dropout(module, generator) if generator is not None else nullcontext(module)
    with swap:
        layers = [m for m in module.modules() if isinstance(m, (*DROPOUT_TYPES, SeededDropout))]
        if not layers:
            raise InvalidInputError(
                f"{type(module).__name__} has no dropout layer: MC Dropout needs nn.Dropout "
                "modules (functional dropout in forward() cannot be switched on)"
            )
        flags = [layer.training for layer in layers]
        for layer in layers:
            layer.train(True)
        try:
            yield module
        finally:
            for layer, flag in zip(layers, flags, strict=True):
                layer.train(flag)


def split_at_first_dropout(module: nn.Module) -> tuple[nn.Module, nn.Module]:
    """``(head, tail)`` with ``tail(head(x)) == module(x)`` and no dropout layer in ``head``.

    For an ``nn.Sequential``, ``head`` holds the children before the first one that is, or
    contains, a dropout layer, and ``tail`` the rest (the layers are shared, not copied). In
    eval mode with MC Dropout on, ``head`` is then deterministic and can run once for K
    stochastic passes of ``tail``. Any other module gives ``(nn.Identity(), module)``.
    """
    if not isinstance(module, nn.Sequential):
        return nn.Identity(), module
    children = list(module)
    dropout = (*DROPOUT_TYPES, SeededDropout)
    first = next(
        (
            i
            for i, child in enumerate(children)
            if any(isinstance(m, dropout) for m in child.modules())
        ),
        len(children),
    )
    return nn.Sequential(*children[:first]), nn.Sequential(*children[first:])
