"""Small PyTorch networks for simulations, and their re-initialisation from a generator."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any, Literal, cast

import torch
from torch import nn

from labelwise.errors import InvalidInputError

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


#: The parameters of :func:`gal_cnn` that Gal et al.'s Keras code regularises: only the kernel
#: of the hidden dense layer carries ``W_regularizer=l2(c / N)``; the convolutions, the output
#: layer and every bias are free.
GAL_CNN_DECAYED = ("dense.weight",)

InitScheme = Literal["pytorch", "glorot_uniform"]


def check_init_scheme(scheme: str) -> None:
    """Refuse an initialisation scheme :func:`reset_parameters` does not know, naming it."""
    if scheme not in ("pytorch", "glorot_uniform"):
        raise InvalidInputError(f"init scheme must be pytorch or glorot_uniform, got {scheme!r}")


def gal_cnn(n_classes: int = 10) -> nn.Sequential:
    """The MNIST CNN of Gal, Islam & Ghahramani (2017), "Deep Bayesian Active Learning with Image
    Data", as section 5.1 of the paper describes it, outputting logits for 28x28 images.

    ``conv 32 4x4 -> ReLU -> conv 32 4x4 -> ReLU -> max-pool 2 -> dropout 0.25 -> dense 128 ->
    ReLU -> dropout 0.5 -> dense n_classes``. (The Keras script in the authors' repository,
    ``Dropout_Bald_Q10_N1000_Paper.py``, has the same layers with 3x3 kernels, 5x5 pooling and
    256 dense units; the text's sizes are the ones kept here.) Inputs may be (N, 1, 28, 28),
    (N, 28, 28) or (N, 784). The layers are named (``conv1``, ``conv2``, ``dense``, ``logits``,
    ...) so that training options can address them: :data:`GAL_CNN_DECAYED` names the one
    weight the paper's code regularises. Everything before ``dropout1`` is deterministic, which
    MC Dropout exploits (:meth:`labelwise.models.TorchModel.sample_proba` runs it once per
    input).
    """
    return nn.Sequential(
        OrderedDict(
            [
                ("image", _AsImage(28)),
                ("conv1", nn.Conv2d(1, 32, kernel_size=4)),
                ("relu1", nn.ReLU()),
                ("conv2", nn.Conv2d(32, 32, kernel_size=4)),
                ("relu2", nn.ReLU()),
                ("pool", nn.MaxPool2d(2)),
                ("dropout1", nn.Dropout(0.25)),
                ("flatten", nn.Flatten()),
                ("dense", nn.Linear(32 * 11 * 11, 128)),
                ("relu3", nn.ReLU()),
                ("dropout2", nn.Dropout(0.5)),
                ("logits", nn.Linear(128, n_classes)),
            ]
        )
    )


def _fans(weight: torch.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a linear or convolution weight, as Keras and PyTorch count them."""
    receptive = weight[0][0].numel() if weight.dim() > 2 else 1
    return weight.size(1) * receptive, weight.size(0) * receptive


@torch.no_grad()
def reset_parameters(
    module: nn.Module, generator: torch.Generator, scheme: InitScheme = "pytorch"
) -> nn.Module:
    """Re-draw every parameter of ``module`` from ``generator``.

    With ``scheme="pytorch"``, linear and convolution layers get ``kaiming_uniform_(a=sqrt(5))``
    weights and ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` biases (PyTorch's defaults); with
    ``"glorot_uniform"`` they get ``U(-a, a)`` weights, ``a = sqrt(6 / (fan_in + fan_out))``, and
    zero biases (Keras's defaults, which the Keras code of papers such as Gal et al. 2017 ran
    with). Embeddings get ``N(0, 1)``.
    Other layers with parameters run their own ``reset_parameters`` with torch's default
    generator seeded from ``generator`` inside ``torch.random.fork_rng``, so the caller's global
    random state is left as it was. ``generator`` must live on the parameters' device.
    """
    check_init_scheme(scheme)
    for layer in module.modules():
        if isinstance(layer, _WEIGHTED) and scheme == "glorot_uniform":
            fan_in, fan_out = _fans(layer.weight)
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            nn.init.uniform_(layer.weight, -limit, limit, generator=generator)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, _WEIGHTED):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            if layer.bias is not None:
                fan_in = _fans(layer.weight)[0]
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
