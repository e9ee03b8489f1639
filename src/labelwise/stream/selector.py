"""The decision per item: the model's uncertainty, the time budget, then the stream rule.

:class:`StreamSelector` is a face over the round engine (:class:`labelwise.loop.RoundEngine`):
the engine fits the model and computes, for each arriving item, the inputs its uncertainty
needs; a stream rule (:mod:`labelwise.strategies.stream`) and optionally a
:class:`~labelwise.stream.budget.TimeWindowBudget` decide. ``offer(item)`` scores the item
(uncertainty in [0, 1], see :mod:`labelwise.stream.scoring`; 1 before the model has learned two
classes, the engine's cold start) and says whether to ask for its label; ``teach(item, label)``
adds an answer and refits every ``refit_every`` answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.loop import RoundEngine
from labelwise.strategies import PoolInputs
from labelwise.strategies.stream import BudgetedStream
from labelwise.stream.budget import TimeWindowBudget
from labelwise.stream.features import hashed_text
from labelwise.stream.items import StreamItem
from labelwise.stream.scoring import UncertaintyKind, uncertainty

#: Makes a fresh, unfitted model with ``fit`` / ``predict_proba`` over the given classes.
ModelFactory = Callable[[Sequence[str]], Any]


@dataclass(frozen=True)
class Decision:
    """What happened to one item: its uncertainty and whether its label is asked."""

    item: StreamItem
    uncertainty: float
    asked: bool
    reason: str  # "asked", "rule" (below the bar or rule budget), "time budget"


def featurize(items: Sequence[StreamItem]) -> Any:
    """Model input of items: their ``features`` stacked, or their hashed ``text``."""
    if all(item.features is not None for item in items):
        rows = [item.features for item in items]
        widths = {len(row) for row in rows if row is not None}
        if len(widths) > 1:
            raise InvalidInputError(f"stream items carry features of different lengths {widths}")
        return np.asarray(rows, dtype=np.float64)
    if all(item.text is not None for item in items):
        return hashed_text([item.text or "" for item in items])
    raise InvalidInputError("items must all carry 'features', or all carry 'text'")


class StreamSelector:
    """Uncertainty-gated labeling of a stream under budgets, with a model that keeps learning.

    Parameters
    ----------
    classes : the label space.
    rule : a stream rule (``VariableUncertainty(budget=0.1, window=100)`` ...).
    model_factory : ``classes -> model``; default :func:`labelwise.stream.features.
        text_classifier` (logistic regression, label space fixed to ``classes``).
    time_budget : an extra budget per window of time.
    kind : the uncertainty fed to the rule.
    refit_every : refit after this many new answers.
    """

    def __init__(
        self,
        classes: Sequence[str],
        rule: BudgetedStream,
        model_factory: ModelFactory | None = None,
        *,
        time_budget: TimeWindowBudget | None = None,
        kind: UncertaintyKind = "least_confidence",
        refit_every: int = 1,
    ) -> None:
        from labelwise.stream.features import text_classifier

        self.classes = [str(c) for c in classes]
        if len(set(self.classes)) < 2:
            raise InvalidInputError(f"a stream needs at least 2 classes, got {self.classes}")
        if isinstance(refit_every, bool) or not isinstance(refit_every, int) or refit_every < 1:
            raise InvalidInputError(f"refit_every must be a positive int, got {refit_every!r}")
        self.rule = rule
        self.model_factory = model_factory or text_classifier
        self.time_budget = time_budget
        self.kind = kind
        self.refit_every = refit_every
        self.engine: RoundEngine | None = None
        self.n_refits = 0
        self._items: list[StreamItem] = []
        self._labels: list[str] = []
        self._since_fit = 0

    @property
    def model(self) -> Any:
        """The model fitted last (None before the first refit)."""
        return None if self.engine is None else self.engine.model

    @property
    def n_answers(self) -> int:
        """Answers the model has been given."""
        return len(self._labels)

    def uncertainty_of(self, items: Sequence[StreamItem]) -> np.ndarray:
        """Uncertainty of items under the current model; 1 for all while the model has seen
        fewer than two classes (it cannot tell them apart yet: a cold start asks)."""
        if self.engine is None or not self.engine.can_rank:
            return np.ones(len(items))
        inputs = self.engine.inputs(featurize(items))
        assert isinstance(inputs, PoolInputs)  # a stream's model is a classifier
        return uncertainty(np.asarray(inputs.proba), self.kind)

    def offer(self, item: StreamItem) -> Decision:
        """Score one arriving item and decide whether to ask for its label."""
        value = float(self.uncertainty_of([item])[0])
        if self.time_budget is not None and not self.time_budget.allows():
            return Decision(item, value, False, "time budget")
        asked = self.rule.decide(value)
        if asked and self.time_budget is not None:
            self.time_budget.record()
        return Decision(item, value, asked, "asked" if asked else "rule")

    def teach(self, item: StreamItem, label: str) -> bool:
        """Add an answer; refit when ``refit_every`` answers arrived. Returns whether it refit."""
        if label not in self.classes:
            raise InvalidInputError(f"label {label!r} is not one of {self.classes}")
        self._items.append(item)
        self._labels.append(label)
        self._since_fit += 1
        if self._since_fit < self.refit_every:
            return False
        self.refit()
        return True

    def refit(self) -> None:
        """Fit a fresh model on every answer so far (through the round engine)."""
        if not self._labels:
            return
        engine = RoundEngine(self.model_factory(self.classes), self.kind)
        engine.fit(featurize(self._items), self._labels)
        self.engine = engine
        self.n_refits += 1
        self._since_fit = 0
