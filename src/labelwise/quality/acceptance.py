"""Suggestion acceptance: how often answers equal the model's suggestion, against how often
the model is right.

An annotator who accepts the suggestion far more often than the model is right on the eval
split is likely rubber-stamping: with ``accuracy`` the model's eval accuracy, an annotator is
flagged when ``acceptance - accuracy >= margin`` over at least ``min_answers`` answers.
Pure functions over ``(annotator, suggestion, answer)`` triples.

Examples
--------
>>> rows = [("ada", "pos", "pos"), ("ada", "neg", "neg"), ("bo", "pos", "neg")]
>>> [(r.key, r.accepted, r.n) for r in acceptance_by(rows, "annotator")]
[('ada', 2, 2), ('bo', 0, 1)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Acceptance", "acceptance_by", "rubber_stamping"]

#: Flag an annotator whose acceptance exceeds the model's accuracy by this much...
MARGIN = 0.15
#: ...over at least this many answers.
MIN_ANSWERS = 10


@dataclass(frozen=True)
class Acceptance:
    """Answers that followed a suggestion (``n``), how many equal it, and their share."""

    key: str
    n: int
    accepted: int

    @property
    def rate(self) -> float:
        return self.accepted / self.n if self.n else 0.0


def acceptance_by(
    rows: Iterable[tuple[str, str, str]], by: Literal["annotator", "suggestion"]
) -> list[Acceptance]:
    """Acceptance per annotator, or per suggested class, of ``(annotator, suggestion,
    answer)`` rows; keys in order of first appearance."""
    counts: dict[str, list[int]] = {}
    for annotator, suggestion, answer in rows:
        key = annotator if by == "annotator" else suggestion
        seen = counts.setdefault(key, [0, 0])
        seen[0] += 1
        seen[1] += int(answer == suggestion)
    return [Acceptance(key, n, accepted) for key, (n, accepted) in counts.items()]


def rubber_stamping(
    found: Acceptance,
    accuracy: float | None,
    margin: float = MARGIN,
    min_answers: int = MIN_ANSWERS,
) -> bool:
    """Whether ``found`` accepts far more often than the model is right (False when the
    model's accuracy is unknown or the answers are too few to say)."""
    return accuracy is not None and found.n >= min_answers and found.rate - accuracy >= margin
