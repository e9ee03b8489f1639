"""A project's loop settings: how the model chooses, how often it retrains, when it stops.

They live in the project's settings in the store (key ``"loop"``), so a restarted server picks
up where it was; :func:`loop_settings` reads and checks them once, at the edge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, get_args

from labelwise.controller.features import TextFeatures
from labelwise.controller.models import resolve_model
from labelwise.errors import InvalidInputError
from labelwise.strategies import available_strategies

__all__ = ["LOOP_KEY", "TEXT_FEATURES", "LoopSettings", "loop_settings"]

#: The values of the ``features`` setting.
TEXT_FEATURES: tuple[str, ...] = get_args(TextFeatures)

#: The key of the loop settings inside a project's settings.
LOOP_KEY = "loop"


@dataclass(frozen=True)
class LoopSettings:
    """How a project's active-learning loop runs.

    Parameters
    ----------
    strategy : registry name of the acquisition strategy (``"margin"``, ``"entropy"``...).
    model : the service model (:mod:`labelwise.controller.models`): ``"auto"`` picks one that
        serves the strategy; a model that cannot serve it is refused here.
    batch_size : samples the queue holds ahead of the annotators after each round, at least.
    features : text features: ``"auto"`` (all-MiniLM-L6-v2 sentence embeddings where the text
        extra is installed, else hashed words), ``"minilm"`` or ``"hashed"``; image and tabular
        projects have one kind each (:mod:`labelwise.controller.features`).
    lookahead : further samples queued per active annotator (one who answered or held a task in
        the last ``active_seconds``), so that a team never finds the queue empty between rounds.
    active_seconds : how recent an annotator's last answer or lease must be to count as active.
    retrain_every : new labels after which the background worker runs the next round.
    gold_fraction : share of each annotator's tasks that are gold questions, in [0, 1).
    gold_threshold : gold accuracy under which an annotator is flagged and down-weighted.
    target_accuracy : stop once accuracy on the eval split reaches this (None: never).
    stop_kappa : stop once predictions on the stop set stabilise: the mean Cohen's kappa of the
        last ``stop_window`` pairs of consecutive rounds reaches it (None: never).
    stop_window : rounds pairs averaged for ``stop_kappa`` (Bloodgood & Vijay-Shanker use 3).
    stop_set_size : pool samples in the stop set.
    max_uncertainty : stop once the largest least-confidence score in the pool falls below it.
    lease_seconds : how long a task stays with the annotator who took it (the open page renews
        it every 30 s, so an abandoned task returns to the queue within about 2 minutes).
    seed : seed of the loop's random choices (the stop set, the first round's order).
    """

    strategy: str = "margin"
    model: str = "auto"
    features: TextFeatures = "auto"
    batch_size: int = 20
    lookahead: int = 3
    active_seconds: float = 300.0
    retrain_every: int = 10
    gold_fraction: float = 0.0
    gold_threshold: float = 0.6
    target_accuracy: float | None = None
    stop_kappa: float | None = 0.99
    stop_window: int = 3
    stop_set_size: int = 500
    max_uncertainty: float | None = None
    lease_seconds: float = 120.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.strategy not in available_strategies():
            known = ", ".join(available_strategies())
            raise InvalidInputError(f"unknown strategy {self.strategy!r}; known: {known}")
        resolve_model(self.strategy, self.model)  # refuses a pair that cannot run, saying why
        if self.features not in TEXT_FEATURES:
            choices = ", ".join(TEXT_FEATURES)
            raise InvalidInputError(f"features must be one of {choices}, got {self.features!r}")
        lookahead = self.lookahead
        if isinstance(lookahead, bool) or not isinstance(lookahead, int) or lookahead < 0:
            raise InvalidInputError(f"lookahead must be a non-negative integer, got {lookahead!r}")
        for name in ("batch_size", "retrain_every", "stop_window", "stop_set_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
        _check_unit("gold_fraction", self.gold_fraction, upper_open=True)
        _check_unit("gold_threshold", self.gold_threshold)
        for name in ("target_accuracy", "stop_kappa", "max_uncertainty"):
            value = getattr(self, name)
            if value is not None:
                _check_unit(name, value)
        for name in ("lease_seconds", "active_seconds"):
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and math.isfinite(value) and value > 0):
                raise InvalidInputError(f"{name} must be a positive number, got {value!r}")

    @property
    def resolved_model(self) -> str:
        """The service model that runs: ``model``, or ``auto``'s pick for the strategy."""
        return resolve_model(self.strategy, self.model)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in the project's settings."""
        return asdict(self)


def _check_unit(name: str, value: object, *, upper_open: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (0.0 <= float(value) <= 1.0) or (upper_open and float(value) >= 1.0):  # type: ignore[arg-type]
        bound = "[0, 1)" if upper_open else "[0, 1]"
        raise InvalidInputError(f"{name} must be a number in {bound}, got {value!r}")


def loop_settings(project_settings: Mapping[str, Any], **changes: Any) -> LoopSettings:
    """The loop settings stored in a project's settings, with ``changes`` applied and checked."""
    stored = dict(project_settings.get(LOOP_KEY) or {})
    known = {f.name for f in fields(LoopSettings)}
    unknown = sorted(set(stored) - known) + sorted(set(changes) - known)
    if unknown:
        raise InvalidInputError(f"unknown loop setting(s): {', '.join(unknown)}")
    try:
        return LoopSettings(**{**stored, **changes})
    except TypeError as exc:
        raise InvalidInputError(f"bad loop settings: {exc}") from None
