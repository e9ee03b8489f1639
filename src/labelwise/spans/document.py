"""Spans and tokens over a text, by character offsets: the one representation of NER data.

A :class:`Span` is ``text[start:end]`` with a label; offsets count Python characters (code
points), as JSONL span files, spaCy and Label Studio do. A :class:`Document` holds a text, its
tokens and its spans; :func:`check_spans` refuses spans out of bounds, empty, unlabeled or
overlapping, naming the offending span.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from labelwise.errors import InvalidInputError

__all__ = ["Document", "Span", "SpanError", "Token", "check_spans"]


class SpanError(InvalidInputError):
    """A span that is out of bounds, empty, overlapping or not on token boundaries."""


@dataclass(frozen=True, order=True)
class Span:
    """A labeled character range ``[start, end)`` of a text."""

    start: int
    end: int
    label: str

    def overlaps(self, other: Span) -> bool:
        """Whether the two ranges share at least one character (labels aside)."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Token:
    """A token: its text and its character range ``[start, end)`` in the document."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A text with its tokens and (optionally) its gold or annotated spans.

    Parameters
    ----------
    text : the raw text.
    tokens : its tokens, in order, non-overlapping, each ``text[start:end] == token.text``.
    spans : labeled character spans, sorted, non-overlapping.
    id : an optional identifier kept by the formats that carry one.
    """

    text: str
    tokens: tuple[Token, ...]
    spans: tuple[Span, ...] = field(default=())
    id: str | None = None

    def __post_init__(self) -> None:
        end = 0
        for i, tok in enumerate(self.tokens):
            if (
                tok.start < end
                or tok.end <= tok.start
                or self.text[tok.start : tok.end] != tok.text
            ):
                raise InvalidInputError(
                    f"token {i} {tok!r} does not match the text at [{tok.start}, {tok.end}) "
                    "or overlaps the token before it"
                )
            end = tok.end
        object.__setattr__(self, "spans", tuple(check_spans(self.spans, len(self.text))))

    @property
    def words(self) -> list[str]:
        """The token texts."""
        return [tok.text for tok in self.tokens]


def check_spans(spans: Iterable[Span], text_length: int) -> list[Span]:
    """Return ``spans`` sorted, after refusing bad ones with a message naming the span.

    Raises
    ------
    SpanError
        For a span with ``start < 0``, ``end > text_length``, ``end <= start``, an empty label,
        or two spans that share a character.
    """
    ordered = sorted(spans)
    for span in ordered:
        if not isinstance(span, Span):
            raise SpanError(f"expected Span objects, got {type(span).__name__}")
        if not (0 <= span.start < span.end <= text_length):
            raise SpanError(
                f"span {span.start}:{span.end} ({span.label!r}) is empty or outside the text "
                f"of {text_length} characters"
            )
        if not span.label or not isinstance(span.label, str):
            raise SpanError(f"span {span.start}:{span.end} has no label")
    for before, after in itertools.pairwise(ordered):
        if before.overlaps(after):
            raise SpanError(
                f"spans overlap: {before.start}:{before.end} ({before.label!r}) and "
                f"{after.start}:{after.end} ({after.label!r}); NER spans must not share a "
                "character"
            )
    return ordered
