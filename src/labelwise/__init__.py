"""labelwise: active learning that makes the model choose what humans label next.

The public API at a glance:

- :class:`ActiveLearner`: the in-memory loop (``query``, ``teach``) for your own training code.
- :class:`SklearnModel`, :class:`BootstrapCommittee` (and ``labelwise.models.TorchModel``,
  ``DeepEnsemble``, ``TemperatureScaling``): model adapters with one protocol.
- :mod:`labelwise.strategies`: every acquisition strategy as a pure function over arrays and as a
  registered :class:`Strategy` (``get_strategy("margin")``).
- :mod:`labelwise.quality`: agreement (Cohen, Fleiss, Krippendorff) and label aggregation
  (majority vote, Dawid-Skene).
"""

from labelwise.errors import (
    BatchSizeError,
    InvalidInputError,
    LabelwiseError,
    MissingInputError,
    NotFittedError,
    StoreError,
    UnknownStrategyError,
)
from labelwise.learner import ActiveLearner
from labelwise.models import BootstrapCommittee, SklearnModel, compute_inputs
from labelwise.strategies import (
    PoolInputs,
    Selection,
    Strategy,
    available_strategies,
    get_strategy,
)

__version__ = "0.1.0"

__all__ = [
    "ActiveLearner",
    "BatchSizeError",
    "BootstrapCommittee",
    "InvalidInputError",
    "LabelwiseError",
    "MissingInputError",
    "NotFittedError",
    "PoolInputs",
    "Selection",
    "SklearnModel",
    "StoreError",
    "Strategy",
    "UnknownStrategyError",
    "__version__",
    "available_strategies",
    "compute_inputs",
    "get_strategy",
]
