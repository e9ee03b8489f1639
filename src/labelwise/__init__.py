"""labelwise: active learning that makes the model choose what humans label next.

The public API at a glance:

- :class:`ActiveLearner`: the in-memory loop (``query``, ``teach``) for your own training code.
- :class:`SklearnModel`, :class:`Committee`, :class:`BootstrapCommittee` (and
  ``labelwise.models.TorchModel``, ``DeepEnsemble``, ``TemperatureScaling``): model adapters
  with one protocol.
- :mod:`labelwise.strategies`: every acquisition strategy as a pure function over arrays and as a
  registered :class:`Strategy` (``get_strategy("margin")``).
- :mod:`labelwise.spans`: sequence labeling and NER spans (CRF and torch taggers, sequence
  strategies, span formats, span agreement).
- :mod:`labelwise.validation`: the input checks every package applies (``check_proba``,
  ``check_batch_size``, ``check_rng`` ...), as ``sklearn.utils.validation``.
- :mod:`labelwise.quality`: agreement (Cohen, Fleiss, Krippendorff) and label aggregation
  (majority vote, Dawid-Skene).
"""

from typing import TYPE_CHECKING

from labelwise._lazy import lazy_attributes
from labelwise.errors import (
    BatchSizeError,
    InvalidInputError,
    LabelwiseError,
    MissingInputError,
    NotFittedError,
    StoreError,
    UnknownStrategyError,
)

if TYPE_CHECKING:
    from labelwise import spans as spans
    from labelwise import strategies as strategies
    from labelwise import validation as validation
    from labelwise.learner import ActiveLearner
    from labelwise.models import (
        BootstrapCommittee,
        Committee,
        SklearnModel,
        SklearnMultilabel,
        SklearnRegressor,
        compute_inputs,
    )
    from labelwise.strategies import (
        PoolInputs,
        Selection,
        Strategy,
        available_strategies,
        get_strategy,
    )

__version__ = "0.1.0"

#: Names loaded on first use, so that ``import labelwise`` (and with it every ``labelwise``
#: command's start) costs no numpy, SciPy or scikit-learn: the strategies import numpy and
#: SciPy, the model adapters scikit-learn (about 100 MB and a second or more), which the command
#: line's help, a Dask worker that only scores arrays or the annotation server should not pay for.
_LAZY = {
    "ActiveLearner": "labelwise.learner",
    "BootstrapCommittee": "labelwise.models",
    "Committee": "labelwise.models",
    "SklearnModel": "labelwise.models",
    "SklearnMultilabel": "labelwise.models",
    "SklearnRegressor": "labelwise.models",
    "compute_inputs": "labelwise.models",
    "PoolInputs": "labelwise.strategies",
    "Selection": "labelwise.strategies",
    "Strategy": "labelwise.strategies",
    "available_strategies": "labelwise.strategies",
    "get_strategy": "labelwise.strategies",
    "strategies": "labelwise.strategies",
    "spans": "labelwise.spans",
    "validation": "labelwise.validation",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "ActiveLearner",
    "BatchSizeError",
    "BootstrapCommittee",
    "Committee",
    "InvalidInputError",
    "LabelwiseError",
    "MissingInputError",
    "NotFittedError",
    "PoolInputs",
    "Selection",
    "SklearnModel",
    "SklearnMultilabel",
    "SklearnRegressor",
    "StoreError",
    "Strategy",
    "UnknownStrategyError",
    "__version__",
    "available_strategies",
    "compute_inputs",
    "get_strategy",
]
