"""Model adapters with one protocol: fit, predict_proba, and sample_proba / embed where able."""

from labelwise.models.base import (
    Model,
    SupportsCommittee,
    SupportsEmbedding,
    SupportsGradEmbedding,
    SupportsSampling,
)
from labelwise.models.inputs import compute_inputs, embed_or_features

__all__ = [
    "Model",
    "SupportsCommittee",
    "SupportsEmbedding",
    "SupportsGradEmbedding",
    "SupportsSampling",
    "compute_inputs",
    "embed_or_features",
]
