"""Model adapters with one protocol: fit, predict_proba, and sample_proba / embed where able.

The PyTorch adapters (``TorchModel``, ``DeepEnsemble``, ``mc_dropout``, ``mlp``, ``gal_cnn``) are
imported on first access, so ``import labelwise.models`` does not need torch.
"""

from __future__ import annotations

from labelwise._lazy import lazy_attributes
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
from labelwise.models.committee import BootstrapCommittee, Committee
from labelwise.models.inputs import compute_inputs, embed_or_features
from labelwise.models.multilabel import SklearnMultilabel
from labelwise.models.regression import SklearnRegressor
from labelwise.models.sklearn import SklearnModel

#: Names served lazily from modules that import torch.
_TORCH_NAMES = {
    "TorchModel": "labelwise.models.torch_model",
    "TorchRegressor": "labelwise.models.torch_tasks",
    "TorchMultilabel": "labelwise.models.torch_tasks",
    "DeepEnsemble": "labelwise.models.ensemble_torch",
    "mc_dropout": "labelwise.models.mc_dropout_torch",
    "mlp": "labelwise.models.torch_nets",
    "gal_cnn": "labelwise.models.torch_nets",
}


__getattr__ = lazy_attributes(__name__, _TORCH_NAMES)


__all__ = [
    "BootstrapCommittee",
    "Committee",
    "DeepEnsemble",
    "Model",
    "SklearnModel",
    "SklearnMultilabel",
    "SklearnRegressor",
    "SupportsCommittee",
    "SupportsEmbedding",
    "SupportsGradEmbedding",
    "SupportsSampling",
    "TemperatureScaling",
    "TorchModel",
    "TorchMultilabel",
    "TorchRegressor",
    "apply_temperature",
    "compute_inputs",
    "embed_or_features",
    "expected_calibration_error",
    "fit_temperature",
    "gal_cnn",
    "mc_dropout",
    "mlp",
]
