"""The round engine (the one active-learning loop) and the capability check of its pairs.

Faces over it: :class:`labelwise.ActiveLearner`, :mod:`labelwise.simulate`,
:mod:`labelwise.stream`, the annotation service's :mod:`labelwise.controller` and the Label
Studio backend. See :class:`RoundEngine`.
"""

from labelwise.loop.capabilities import check_runnable, missing_inputs, supplies, what_supplies
from labelwise.loop.engine import ColdStart, RoundEngine, RoundResult, dense_numeric

__all__ = [
    "ColdStart",
    "RoundEngine",
    "RoundResult",
    "check_runnable",
    "dense_numeric",
    "missing_inputs",
    "supplies",
    "what_supplies",
]
