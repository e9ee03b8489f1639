"""A project's loop settings: how the model chooses, how often it retrains, when it stops.

They live in the project's settings in the store (key ``"loop"``), so a restarted server picks
up where it was; :func:`loop_settings` reads and checks them once, at the edge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, get_args

from labelwise.controller.features import TextFeatures
from labelwise.controller.models import MODEL_CHOICES, TASK_MODELS, resolve_model
from labelwise.errors import InvalidInputError
from labelwise.strategies import available_strategies, get_strategy, strategy_tasks

if TYPE_CHECKING:
    from labelwise.loop.diversity import Diversity

__all__ = [
    "ANSWER_TASKS",
    "KIND_TASKS",
    "LOOP_KEY",
    "TEXT_FEATURES",
    "LoopSettings",
    "check_strategy_for",
    "loop_settings",
    "task_strategy_needs",
]

#: The values of the ``features`` setting.
TEXT_FEATURES: tuple[str, ...] = get_args(TextFeatures)

#: The key of the loop settings inside a project's settings.
LOOP_KEY = "loop"

#: The strategy task a project of each answer kind runs (:func:`check_strategy_for`).
ANSWER_TASKS: dict[str, str] = {
    "label": "classification",
    "number": "regression",
    "labels": "multilabel",
}
#: With spans projects, whose strategies are the sequence registry's (task ``"sequence"``).
KIND_TASKS: dict[str, str] = {**ANSWER_TASKS, "spans": "sequence"}


def _sequence_strategies() -> list[str]:
    """The sequence registry's names (:mod:`labelwise.spans.selection`), which spans projects
    run."""
    from labelwise.spans.selection import available_sequence_strategies

    return available_sequence_strategies()


def _known_strategies() -> list[str]:
    """Every strategy name a project may store: the main registry's and the sequence one's."""
    return sorted({*available_strategies(task=None), *_sequence_strategies()})


def _serving(task: str) -> list[str]:
    """The strategies that serve ``task`` (``"sequence"``: the sequence registry)."""
    if task == "sequence":
        return _sequence_strategies()
    return available_strategies(task)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LoopSettings:
    """How a project's active-learning loop runs.

    Parameters
    ----------
    strategy : registry name of the acquisition strategy (``"margin"``, ``"entropy"``...). Any
        registered strategy passes here; whether it serves the project's answer kind is
        checked where a change comes in (:func:`loop_settings` with ``answer_kind``).
    model : the service model (:mod:`labelwise.controller.models`) of a classification
        project: ``"auto"`` picks one that serves the strategy; a model that cannot serve it is
        refused here. Regression and multi-label projects run their task's model.
    batch_size : samples the queue holds ahead of the annotators after each round, at least.
    diversity : ``"auto"`` (batches of 50 or more from a pure uncertainty strategy are spread
        out by k-means over the model's embeddings, :mod:`labelwise.loop.diversity`), ``"on"``
        (every batch) or ``"off"`` (plain top-k).
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
    diversity: Diversity = "auto"
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
        if self.strategy not in _known_strategies():
            known = ", ".join(_known_strategies())
            raise InvalidInputError(f"unknown strategy {self.strategy!r}; known: {known}")
        if self.strategy in available_strategies("classification"):
            resolve_model(self.strategy, self.model)  # refuses a pair that cannot run, saying why
        elif self.model not in MODEL_CHOICES:
            choices = ", ".join(MODEL_CHOICES)
            raise InvalidInputError(f"unknown model {self.model!r}; choose one of {choices}")
        from labelwise.loop.diversity import check_diversity

        check_diversity(self.diversity)
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
        """The service model that runs: ``model``, or ``auto``'s pick for the strategy; for a
        strategy that serves no classification, its task's model (:data:`TASK_MODELS`)."""
        if self.strategy in available_strategies("classification"):
            return resolve_model(self.strategy, self.model)
        if self.strategy not in available_strategies(task=None):  # a sequence strategy
            return TASK_MODELS["spans"][1]
        tasks = strategy_tasks(get_strategy(self.strategy))
        kind = "number" if "regression" in tasks else "labels"
        return TASK_MODELS[kind][1]

    def model_for(self, answer_kind: str) -> str:
        """The service model a project of ``answer_kind`` runs with these settings."""
        return TASK_MODELS[answer_kind][1] if answer_kind in TASK_MODELS else self.resolved_model

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in the project's settings."""
        return asdict(self)


def _check_unit(name: str, value: object, *, upper_open: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (0.0 <= float(value) <= 1.0) or (upper_open and float(value) >= 1.0):  # type: ignore[arg-type]
        bound = "[0, 1)" if upper_open else "[0, 1]"
        raise InvalidInputError(f"{name} must be a number in {bound}, got {value!r}")


def task_strategy_needs(answer_kind: str) -> dict[str, list[str]]:
    """The strategies that serve a project of ``answer_kind`` (one of :data:`KIND_TASKS`),
    each with the inputs it needs, sorted by name: what a settings form offers."""
    if answer_kind not in KIND_TASKS:
        kinds = ", ".join(KIND_TASKS)
        raise InvalidInputError(f"answer kind must be one of {kinds}, got {answer_kind!r}")
    if answer_kind == "spans":
        from labelwise.spans.selection import get_sequence_strategy

        return {n: sorted(get_sequence_strategy(n).needs) for n in _sequence_strategies()}
    return {n: sorted(get_strategy(n).needs) for n in _serving(KIND_TASKS[answer_kind])}


def check_strategy_for(strategy: str, answer_kind: str) -> None:
    """Refuse ``strategy`` for a project of ``answer_kind`` unless it serves the kind's task.

    Parameters
    ----------
    strategy : a strategy's registry name
    answer_kind : ``"label"`` (classification), ``"number"`` (regression), ``"labels"``
        (multi-label) or ``"spans"`` (NER: the sequence strategies,
        :func:`labelwise.spans.available_sequence_strategies`)

    Raises
    ------
    InvalidInputError
        For an unknown answer kind, or a strategy that does not serve the task; the message
        lists the strategies that do.
    """
    if answer_kind not in KIND_TASKS:
        kinds = ", ".join(KIND_TASKS)
        raise InvalidInputError(f"answer kind must be one of {kinds}, got {answer_kind!r}")
    if strategy not in _known_strategies():
        known = ", ".join(_known_strategies())
        raise InvalidInputError(f"unknown strategy {strategy!r}; known: {known}")
    task = KIND_TASKS[answer_kind]
    fitting = _serving(task)
    if strategy not in fitting:
        raise InvalidInputError(
            f"strategy {strategy!r} does not serve a {answer_kind!r} project ({task}); "
            f"choose one of {', '.join(fitting)}"
        )


def loop_settings(
    project_settings: Mapping[str, Any], answer_kind: str | None = None, **changes: Any
) -> LoopSettings:
    """The loop settings stored in a project's settings, with ``changes`` applied and checked.

    Parameters
    ----------
    project_settings : the project's settings (the loop's under :data:`LOOP_KEY`)
    answer_kind : the project's answer kind; when one of :data:`KIND_TASKS`, a ``strategy``
        among ``changes`` that differs from the stored one must serve its task
        (:func:`check_strategy_for`; a spans project's among the sequence strategies). The
        stored strategy (sent back unchanged by a settings form) is not re-checked:
        a regression or multi-label project runs its task's default in place of one that
        does not serve it (:func:`~labelwise.controller.models.task_strategy`).
    **changes : loop settings to change
    """
    stored = dict(project_settings.get(LOOP_KEY) or {})
    current = stored.get("strategy", LoopSettings.strategy)
    if answer_kind == "spans":  # its stored default (margin) stands in for mnlp
        from labelwise.controller.models import task_strategy

        current = task_strategy(answer_kind, current)
    if answer_kind in KIND_TASKS and changes.get("strategy", current) != current:
        check_strategy_for(str(changes["strategy"]), answer_kind)
    known = {f.name for f in fields(LoopSettings)}
    unknown = sorted(set(stored) - known) + sorted(set(changes) - known)
    if unknown:
        raise InvalidInputError(f"unknown loop setting(s): {', '.join(unknown)}")
    try:
        return LoopSettings(**{**stored, **changes})
    except TypeError as exc:
        raise InvalidInputError(f"bad loop settings: {exc}") from None
