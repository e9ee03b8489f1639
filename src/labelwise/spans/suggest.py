"""The model's spans as suggestions for annotators and for Label Studio predictions.

Each suggested span comes from the tagger's best path, with a score: the smallest marginal,
over the span's tokens, of the tag the path gives that token. For a CRF this is an upper bound
on the probability that the span is tagged exactly so (all of its tags together cannot be
likelier than the least likely one); for a token classifier it bounds the product from above
too. It ranks suggestions (accept the sure ones fast, look at the doubtful ones) and is what
Label Studio's ``score`` field carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from labelwise.spans.document import Document, Span
from labelwise.spans.tags import tags_to_spans

__all__ = ["Suggestion", "suggest_spans"]


class Tagger(Protocol):
    labels_: list[str]

    def marginals(self, sequences: Sequence[Sequence[str]]) -> list[NDArray[np.float64]]:
        """Per-token marginals."""

    def best_path(
        self, sequences: Sequence[Sequence[str]]
    ) -> tuple[list[list[str]], NDArray[np.float64]]:
        """Best paths and their probabilities."""


@dataclass(frozen=True)
class Suggestion:
    """A span the model proposes, and its score in [0, 1] (see the module docstring)."""

    span: Span
    score: float


def suggest_spans(model: Tagger, documents: Sequence[Document]) -> list[list[Suggestion]]:
    """The best path's spans of each document, each with its score, in text order."""
    words = [d.words for d in documents]
    paths, _ = model.best_path(words)
    marginals = model.marginals(words)
    column = {label: k for k, label in enumerate(model.labels_)}
    out: list[list[Suggestion]] = []
    for document, path, m in zip(documents, paths, marginals, strict=True):
        starts = {t.start: i for i, t in enumerate(document.tokens)}
        ends = {t.end: i for i, t in enumerate(document.tokens)}
        suggestions = []
        for span in tags_to_spans(document.tokens, path):
            first, last = starts[span.start], ends[span.end]
            tag_marginals = [m[t, column[path[t]]] for t in range(first, last + 1)]
            suggestions.append(Suggestion(span, float(min(tag_marginals))))
        out.append(suggestions)
    return out
