"""Model adapters with one protocol: fit, predict_proba, and sample_proba / embed where able.

Every name is imported on first access: ``import labelwise.models`` needs neither torch (the
PyTorch adapters ``TorchModel``, ``DeepEnsemble``, ``mc_dropout``, ``mlp``, ``gal_cnn``) nor
scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labelwise._lazy import lazy_attributes

if TYPE_CHECKING:
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
    from labelwise.models.ensemble_torch import DeepEnsemble
    from labelwise.models.inputs import compute_inputs, embed_or_features
    from labelwise.models.mc_dropout_torch import mc_dropout
    from labelwise.models.multilabel import SklearnMultilabel
    from labelwise.models.regression import SklearnRegressor
    from labelwise.models.sklearn import SklearnModel
    from labelwise.models.torch_model import TorchModel
    from labelwise.models.torch_nets import gal_cnn, mlp
    from labelwise.models.torch_tasks import TorchMultilabel, TorchRegressor

#: Every name is served on first use from its module, so that importing one submodule (the
#: protocols of :mod:`labelwise.models.base`, say) costs no scikit-learn, and ``import
#: labelwise.models`` no torch.
_NAMES = {
    "Model": "labelwise.models.base",
    "SupportsCommittee": "labelwise.models.base",
    "SupportsEmbedding": "labelwise.models.base",
    "SupportsGradEmbedding": "labelwise.models.base",
    "SupportsSampling": "labelwise.models.base",
    "TemperatureScaling": "labelwise.models.calibration",
    "apply_temperature": "labelwise.models.calibration",
    "expected_calibration_error": "labelwise.models.calibration",
    "fit_temperature": "labelwise.models.calibration",
    "BootstrapCommittee": "labelwise.models.committee",
    "Committee": "labelwise.models.committee",
    "compute_inputs": "labelwise.models.inputs",
    "embed_or_features": "labelwise.models.inputs",
    "SklearnMultilabel": "labelwise.models.multilabel",
    "SklearnRegressor": "labelwise.models.regression",
    "SklearnModel": "labelwise.models.sklearn",
    "TorchModel": "labelwise.models.torch_model",
    "TorchRegressor": "labelwise.models.torch_tasks",
    "TorchMultilabel": "labelwise.models.torch_tasks",
    "DeepEnsemble": "labelwise.models.ensemble_torch",
    "mc_dropout": "labelwise.models.mc_dropout_torch",
    "mlp": "labelwise.models.torch_nets",
    "gal_cnn": "labelwise.models.torch_nets",
}


__getattr__ = lazy_attributes(__name__, _NAMES)


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
