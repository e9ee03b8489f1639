"""Character spans to token tags and back, in the BIO (IOB2) and BILUO schemes.

``spans_to_tags`` needs every span to start and end on token boundaries (``alignment="strict"``)
or widens it to the tokens it touches (``"expand"``). ``tags_to_spans`` reads well-formed tags
exactly; a model's ill-formed ones (``I-PER`` after ``O``) start a new span, as conlleval does,
unless ``strict=True``, which refuses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from labelwise.spans.document import Span, SpanError, Token, check_spans

__all__ = ["Alignment", "Scheme", "entity_labels", "spans_to_tags", "tag_set", "tags_to_spans"]

Scheme = Literal["BIO", "BILUO"]
Alignment = Literal["strict", "expand"]


def tag_set(entity_types: Sequence[str], scheme: Scheme = "BIO") -> list[str]:
    """All tags of a scheme over ``entity_types``: ``O`` first, then per type in order."""
    prefixes = "BI" if scheme == "BIO" else "BILU"
    return ["O"] + [f"{p}-{t}" for t in entity_types for p in prefixes]


def entity_labels(tags: Sequence[str]) -> list[str]:
    """The entity types named by a list of tags, sorted (``B-PER``, ``I-PER`` -> ``PER``)."""
    return sorted({tag.split("-", 1)[1] for tag in tags if tag != "O" and "-" in tag})


def _token_range(span: Span, tokens: Sequence[Token], alignment: Alignment) -> tuple[int, int]:
    inside = [i for i, t in enumerate(tokens) if t.start < span.end and span.start < t.end]
    if not inside:
        raise SpanError(f"span {span.start}:{span.end} ({span.label!r}) covers no token")
    first, last = inside[0], inside[-1]
    if alignment == "strict" and (
        tokens[first].start != span.start or tokens[last].end != span.end
    ):
        raise SpanError(
            f"span {span.start}:{span.end} ({span.label!r}) does not start and end on token "
            f"boundaries (tokens cover {tokens[first].start}:{tokens[last].end}); retokenize or "
            "pass alignment='expand'"
        )
    return first, last


def spans_to_tags(
    tokens: Sequence[Token],
    spans: Sequence[Span],
    scheme: Scheme = "BIO",
    alignment: Alignment = "strict",
) -> list[str]:
    """One tag per token for non-overlapping character spans.

    Raises
    ------
    SpanError
        For overlapping spans, a span off token boundaries (strict), or two spans that expand
        onto the same token.
    """
    text_end = tokens[-1].end if tokens else 0
    tags = ["O"] * len(tokens)
    for span in check_spans(spans, max(text_end, max((s.end for s in spans), default=0))):
        first, last = _token_range(span, tokens, alignment)
        if any(tag != "O" for tag in tags[first : last + 1]):
            raise SpanError(
                f"span {span.start}:{span.end} ({span.label!r}) shares a token with another span"
            )
        if scheme == "BILUO" and first == last:
            tags[first] = f"U-{span.label}"
            continue
        tags[first] = f"B-{span.label}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{span.label}"
        if scheme == "BILUO":
            tags[last] = f"L-{span.label}"
    return tags


def _split(tag: str, i: int) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    prefix, sep, label = tag.partition("-")
    if not sep or not label or prefix not in {"B", "I", "L", "U", "E", "S"}:
        raise SpanError(f"tag {i} {tag!r} is not O or PREFIX-LABEL with a prefix among B I L U")
    return {"E": "L", "S": "U"}.get(prefix, prefix), label


def tags_to_spans(tokens: Sequence[Token], tags: Sequence[str], strict: bool = False) -> list[Span]:
    """Character spans from BIO or BILUO tags (the scheme is read off the prefixes).

    Parameters
    ----------
    tokens : the tokens the tags belong to.
    tags : one tag per token.
    strict : refuse ill-formed sequences (an ``I-``/``L-`` that continues no span of its type,
        a ``B-`` left open in BILUO) instead of repairing them.
    """
    if len(tokens) != len(tags):
        raise SpanError(f"{len(tags)} tags for {len(tokens)} tokens")
    spans: list[Span] = []
    open_label: str | None = None
    open_start = open_end = 0
    biluo = any(tag[:2] in {"L-", "U-", "E-", "S-"} for tag in tags)

    def close() -> None:
        nonlocal open_label
        if open_label is not None:
            spans.append(Span(open_start, open_end, open_label))
        open_label = None

    for i, (token, tag) in enumerate(zip(tokens, tags, strict=True)):
        prefix, label = _split(tag, i)
        continues = prefix in {"I", "L"} and open_label == label
        if prefix in {"I", "L"} and not continues and strict:
            raise SpanError(f"tag {i} {tag!r} continues no open {label!r} span")
        if strict and biluo and prefix in {"B", "U", "O"} and open_label is not None:
            raise SpanError(f"tag {i} {tag!r} comes before the open span was closed by L-")
        if not continues:
            close()
            if prefix != "O":
                open_label, open_start = label, token.start
        open_end = token.end
        if prefix in {"L", "U"}:
            close()
    if strict and biluo and open_label is not None:
        raise SpanError(f"the last span ({open_label!r}) is never closed by an L- tag")
    close()
    return spans
