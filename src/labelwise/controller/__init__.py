"""The team loop over the store, a face over the round engine (:mod:`labelwise.loop`).

:class:`Controller` runs one round at a time over a project (snapshot, fit, select, measure,
queue) and keeps the queue as deep as the team needs; :class:`Retrainer` runs rounds in a
background thread after every N new labels while a second thread tops the queue up. The models
the service trains are named in :mod:`labelwise.controller.models`, the features they read in
:mod:`labelwise.controller.features`. Stopping criteria are pure functions in
:mod:`labelwise.controller.stopping`; :func:`stop_state` is the one stop state every reader uses.
"""

from labelwise.controller.background import Retrainer
from labelwise.controller.guessing import Guess
from labelwise.controller.loop import Controller, RoundReport, stop_state
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
    "stop_state",
]
