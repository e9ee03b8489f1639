"""Model adapters with one protocol: fit, predict_proba, and sample_proba / embed where able.

The PyTorch adapters (``TorchModel``, ``DeepEnsemble``, ``mc_dropout``, ``mlp``, ``gal_cnn``) are
imported on first access, so ``import labelwise.models`` does not need torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from labelwise.models.base import (
    Model,
    SupportsCommittee,
    SupportsEmbedding,
    SupportsGradEmbedding,
    SupportsSampling,
)
from labelwise.models.calibration import (
    TemperatureScaling,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
)
from labelwise.models.committee import BootstrapCommittee
from labelwise.models.inputs import compute_inputs, embed_or_features
from labelwise.models.sklearn import SklearnModel

#: Names served lazily from modules that import torch.
_TORCH_NAMES = {
    "TorchModel": "labelwise.models.torch_model",
    "DeepEnsemble": "labelwise.models.ensemble_torch",
    "mc_dropout": "labelwise.models.mc_dropout_torch",
    "mlp": "labelwise.models.torch_nets",
    "gal_cnn": "labelwise.models.torch_nets",
}


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        return getattr(import_module(_TORCH_NAMES[name]), name)
    raise AttributeError(f"module 'labelwise.models' has no attribute {name!r}")


__all__ = [
    "BootstrapCommittee",
    "DeepEnsemble",
    "Model",
    "SklearnModel",
    "SupportsCommittee",
    "SupportsEmbedding",
    "SupportsGradEmbedding",
    "SupportsSampling",
    "TemperatureScaling",
    "TorchModel",
    "apply_temperature",
    "compute_inputs",
    "embed_or_features",
    "expected_calibration_error",
    "fit_temperature",
    "gal_cnn",
    "mc_dropout",
    "mlp",
]
