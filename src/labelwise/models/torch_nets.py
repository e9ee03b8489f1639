"""Small PyTorch networks for simulations, and their re-initialisation from a generator."""

from __future__ import annotations

import math
from typing import Any, cast

import torch
from torch import nn

_WEIGHTED = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)


def mlp(n_features: int, n_classes: int, hidden: int = 128, dropout: float = 0.5) -> nn.Sequential:
    """A one-hidden-layer perceptron with dropout, outputting logits.

    ``Linear(n_features, hidden) -> ReLU -> Dropout(dropout) -> Linear(hidden, n_classes)``; the
    input of the last layer is the embedding that ``TorchModel.embed`` returns.
    """
    return nn.Sequential(
        nn.Linear(n_features, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, n_classes),
    )


class _AsImage(nn.Module):
    """Reshape flat (N, side*side) or (N, side, side) inputs to (N, 1, side, side) images."""

    def __init__(self, side: int):
        super().__init__()
        self.side = side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], 1, self.side, self.side) if x.dim() != 4 else x


def gal_cnn(n_classes: int = 10) -> nn.Sequential:
    """The MNIST CNN of Gal, Islam & Ghahramani (2017), "Deep Bayesian Active Learning with Image
    Data", as in their Keras code, outputting logits for 28x28 images.

    ``conv 32 4x4 -> ReLU -> conv 32 4x4 -> ReLU -> max-pool 2 -> dropout 0.25 -> dense 128 ->
    ReLU -> dropout 0.5 -> dense n_classes``. Inputs may be (N, 1, 28, 28), (N, 28, 28) or
    (N, 784).
    """
    return nn.Sequential(
        _AsImage(28),
        nn.Conv2d(1, 32, kernel_size=4),
        nn.ReLU(),
        nn.Conv2d(32, 32, kernel_size=4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(32 * 11 * 11, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, n_classes),
    )


@torch.no_grad()
def reset_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-draw every parameter of ``module`` with PyTorch's default schemes, from ``generator``.

    Linear and convolution layers get ``kaiming_uniform_(a=sqrt(5))`` weights and
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` biases (PyTorch's defaults), embeddings ``N(0, 1)``.
    Other layers with parameters run their own ``reset_parameters`` with torch's default
    generator seeded from ``generator`` inside ``torch.random.fork_rng``, so the caller's global
    random state is left as it was. ``generator`` must live on the parameters' device.
    """
    for layer in module.modules():
        if isinstance(layer, _WEIGHTED):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            if layer.bias is not None:
                fan_in = layer.weight.size(1) * layer.weight[0][0].numel()
                bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        elif isinstance(layer, nn.Embedding):
            nn.init.normal_(layer.weight, generator=generator)
            if layer.padding_idx is not None:
                layer.weight[layer.padding_idx].fill_(0.0)
        elif hasattr(layer, "reset_parameters") and any(True for _ in layer.parameters(False)):
            seed = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                cast(Any, layer).reset_parameters()
    return module
