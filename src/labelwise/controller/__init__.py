"""The loop over the store: train, score, enqueue, evaluate, budget and stopping criteria.

:class:`Controller` runs one round at a time over a project; :class:`Retrainer` runs rounds in a
background thread after every N new labels. Stopping criteria are pure functions in
:mod:`labelwise.controller.stopping`.
"""

from labelwise.controller.background import Retrainer
from labelwise.controller.loop import Controller, Guess, RoundReport
from labelwise.controller.settings import LOOP_KEY, LoopSettings, loop_settings
from labelwise.controller.stopping import (
    StopDecision,
    decide_stop,
    prediction_kappa,
    stabilizing_predictions,
)
from labelwise.controller.weighting import GoldStanding, gold_standing, reweight_by_gold

__all__ = [
    "LOOP_KEY",
    "Controller",
    "GoldStanding",
    "Guess",
    "LoopSettings",
    "Retrainer",
    "RoundReport",
    "StopDecision",
    "decide_stop",
    "gold_standing",
    "loop_settings",
    "prediction_kappa",
    "reweight_by_gold",
    "stabilizing_predictions",
]
