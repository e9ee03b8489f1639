"""Span-level agreement between annotators and aggregation of their spans by majority.

Agreement is F1 between two annotators' span sets, one taken as reference (F1 is symmetric:
swapping them swaps precision and recall), micro-averaged over documents:

- **exact**: a span matches when the other annotator has the same start, end and label
  (CoNLL-2003's measure);
- **overlap**: a span matches when the other has a span of the same label sharing at least one
  character (MUC-style partial credit, lenient on boundaries).

Aggregation keeps each exact span (start, end, label) that at least ``min_votes`` annotators
gave (default: a strict majority); overlapping survivors are resolved by votes, then length.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.spans.document import Span

__all__ = ["Match", "SpanScores", "aggregate_spans", "pairwise_span_f1", "span_f1"]

Match = Literal["exact", "overlap"]
DocSpans = Sequence[Sequence[Span]]


@dataclass(frozen=True)
class SpanScores:
    """Precision, recall and F1 of ``predicted`` against ``reference`` spans.

    ``matched_predicted`` / ``matched_reference`` count spans that found a match on the other
    side (equal for exact matching; with overlap one span may cover two). F1 is 1 when both
    sides are empty: two annotators who mark nothing agree.
    """

    precision: float
    recall: float
    f1: float
    n_predicted: int
    n_reference: int
    matched_predicted: int
    matched_reference: int


def _matches(a: Sequence[Span], b: Sequence[Span], match: Match) -> tuple[int, int]:
    """Spans of ``a`` with a partner in ``b`` and spans of ``b`` with a partner in ``a``."""
    if not a or not b:
        return 0, 0
    if match == "exact":
        common = len(set(a) & set(b))
        return common, common
    a_start, a_end = np.array([s.start for s in a]), np.array([s.end for s in a])
    b_start, b_end = np.array([s.start for s in b]), np.array([s.end for s in b])
    same_label = np.array([s.label for s in a])[:, None] == np.array([s.label for s in b])[None]
    hit = (a_start[:, None] < b_end[None]) & (b_start[None] < a_end[:, None]) & same_label
    return int(hit.any(axis=1).sum()), int(hit.any(axis=0).sum())


def span_f1(predicted: DocSpans, reference: DocSpans, match: Match = "exact") -> SpanScores:
    """F1 of one annotator's (or a model's) spans against another's, micro over documents.

    Parameters
    ----------
    predicted, reference : per document, that side's spans.
    match : ``"exact"`` or ``"overlap"`` (see the module docstring).
    """
    if match not in ("exact", "overlap"):
        raise InvalidInputError(f"unknown match {match!r}; use 'exact' or 'overlap'")
    if len(predicted) != len(reference):
        raise InvalidInputError(
            f"{len(predicted)} documents of predicted spans but {len(reference)} of reference"
        )
    n_pred = n_ref = hit_pred = hit_ref = 0
    for p, r in zip(predicted, reference, strict=True):
        hp, hr = _matches(p, r, match)
        n_pred, n_ref, hit_pred, hit_ref = (
            n_pred + len(p),
            n_ref + len(r),
            hit_pred + hp,
            hit_ref + hr,
        )
    precision = hit_pred / n_pred if n_pred else float(n_ref == 0)
    recall = hit_ref / n_ref if n_ref else float(n_pred == 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return SpanScores(precision, recall, f1, n_pred, n_ref, hit_pred, hit_ref)


def pairwise_span_f1(annotators: Sequence[DocSpans], match: Match = "exact") -> float:
    """Mean F1 over every pair of annotators (each ``annotators[j]`` holds spans per document)."""
    if len(annotators) < 2:
        raise InvalidInputError("agreement needs at least two annotators")
    pairs = list(itertools.combinations(annotators, 2))
    return float(np.mean([span_f1(a, b, match).f1 for a, b in pairs]))


def aggregate_spans(
    annotations: Sequence[Sequence[Span]], min_votes: int | None = None
) -> list[tuple[Span, int]]:
    """The spans of one document that enough annotators gave, with their votes, sorted.

    Parameters
    ----------
    annotations : one span list per annotator (each annotator's spans must not overlap: a span
        counts once per annotator).
    min_votes : votes a span needs; default a strict majority, ``len(annotations) // 2 + 1``,
        under which two overlapping spans can never both pass.

    Overlapping spans that both pass a lower ``min_votes`` are resolved greedily: more votes,
    then the longer span, then the earlier one.
    """
    n = len(annotations)
    if n == 0:
        raise InvalidInputError("aggregation needs at least one annotator's spans")
    need = n // 2 + 1 if min_votes is None else int(min_votes)
    if not 1 <= need <= n:
        raise InvalidInputError(f"min_votes must be between 1 and {n} annotators, got {need}")
    votes = Counter(span for spans in annotations for span in set(spans))
    candidates = sorted(
        ((span, v) for span, v in votes.items() if v >= need),
        key=lambda sv: (-sv[1], -(sv[0].end - sv[0].start), sv[0]),
    )
    kept: list[tuple[Span, int]] = []
    for span, v in candidates:
        if not any(span.overlaps(other) for other, _ in kept):
            kept.append((span, v))
    return sorted(kept)
