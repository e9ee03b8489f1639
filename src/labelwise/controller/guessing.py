"""The model's answer for one sample, in the project's answer kind (pre-annotation).

:meth:`labelwise.controller.Controller.guess` picks the model (its own or the newest stored
one); :func:`model_guess` reads that model's answer: the most probable label, the labels of a
set at probability >= 0.5, a number, or a spans project's suggested spans.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelwise.controller.features import FeatureSource
from labelwise.controller.measure import suggest_for
from labelwise.store import SampleRecord

__all__ = ["Guess", "model_guess"]


@dataclass(frozen=True)
class Guess:
    """The model's current answer for a sample (pre-annotation)."""

    label: str
    probability: float | None  # None for a number (a regressor's guess has no probability)
    round: int
    #: A spans project's suggestions, ``(start, end, label, score)`` in code points, in text
    #: order (``label`` is then their answer text, ``probability`` the lowest score).
    spans: tuple[tuple[int, int, str, float], ...] | None = None


def model_guess(
    model: Any,
    round_number: int,
    kind: str,
    classes: Sequence[str],
    features: FeatureSource,
    sample: SampleRecord,
) -> Guess:
    """``model``'s (fitted in round ``round_number``) answer for ``sample`` in a project of
    answer ``kind`` with label space ``classes``, reading the sample through ``features``."""
    compact = (",", ":")
    if kind == "spans":
        suggestions = suggest_for(model, [sample])[0]
        spans = tuple((s.span.start, s.span.end, s.span.label, s.score) for s in suggestions)
        value = json.dumps([list(s[:3]) for s in spans], separators=compact)
        sure = min((s.score for s in suggestions), default=None)
        return Guess(value, sure, round_number, spans)
    if kind == "number":
        number = float(np.asarray(model.predict(features([sample])))[0])
        return Guess(repr(number), None, round_number)
    if kind == "labels":
        proba = np.asarray(model.predict_label_proba(features([sample])))[0]
        chosen = [c for c, p in zip(classes, proba, strict=True) if p >= 0.5]
        sure = float(np.mean(np.maximum(proba, 1.0 - proba)))
        return Guess(json.dumps(chosen, separators=compact), sure, round_number)
    proba = np.asarray(model.predict_proba(features([sample])))[0]
    best = int(np.argmax(proba))
    return Guess(classes[best], float(proba[best]), round_number)
