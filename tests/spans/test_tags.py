"""Tokenizers keep offsets; spans and BIO/BILUO tags convert both ways, bad spans refused."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from labelwise.spans.document import Document, Span, SpanError, Token
from labelwise.spans.tags import spans_to_tags, tag_set, tags_to_spans
from labelwise.spans.tokens import tokenize, tokens_from_words

TEXTS = [
    "Angela Merkel met Emmanuel Macron in Paris.",
    "Zoë visited São Paulo — and 東京 — in 2024!",
    "It's U.S. policy; don't e-mail @paulwalk http://x.y",
]


@pytest.mark.parametrize(
    "method",
    ["regex", pytest.param("spacy", marks=pytest.mark.slow)],  # spaCy loads in ~10 s
)
@pytest.mark.parametrize("text", TEXTS)
def test_tokens_index_the_text(method: str, text: str) -> None:
    if method == "spacy":
        pytest.importorskip("spacy")
    tokens = tokenize(text, method)  # type: ignore[arg-type]
    assert tokens
    for tok in tokens:
        assert text[tok.start : tok.end] == tok.text
    assert all(a.end <= b.start for a, b in itertools.pairwise(tokens))
    assert "".join(t.text for t in tokens) == "".join(text.split())


def test_words_rebuild_a_text_with_either_separator() -> None:
    text, tokens = tokens_from_words(["東京", "に", "行く"], separator="")
    assert text == "東京に行く" and [(t.start, t.end) for t in tokens] == [(0, 2), (2, 3), (3, 5)]
    Document(text, tuple(tokens))  # consistent


def doc(text: str) -> Document:
    return Document(text, tuple(tokenize(text)))


@pytest.mark.parametrize("scheme", ["BIO", "BILUO"])
def test_random_spans_survive_the_round_trip(scheme: str) -> None:
    rng = np.random.default_rng(0)
    d = doc(TEXTS[1] + " " + TEXTS[0])
    for _ in range(50):
        # random non-overlapping token ranges with random labels
        cuts = sorted(rng.choice(len(d.tokens) + 1, size=6, replace=False).tolist())
        spans = [
            Span(d.tokens[a].start, d.tokens[b - 1].end, str(rng.choice(["PER", "LOC"])))
            for a, b in zip(cuts[::2], cuts[1::2], strict=True)
        ]
        tags = spans_to_tags(d.tokens, spans, scheme)  # type: ignore[arg-type]
        assert set(tags) <= set(tag_set(["PER", "LOC"], scheme))  # type: ignore[arg-type]
        assert tags_to_spans(d.tokens, tags, strict=True) == sorted(spans)


def test_known_bio_and_biluo_tags() -> None:
    d = doc(TEXTS[0])
    spans = [Span(0, 13, "PER"), Span(37, 42, "LOC")]
    assert spans_to_tags(d.tokens, spans) == ["B-PER", "I-PER", "O", "O", "O", "O", "B-LOC", "O"]
    assert spans_to_tags(d.tokens, spans, "BILUO") == [
        "B-PER",
        "L-PER",
        "O",
        "O",
        "O",
        "O",
        "U-LOC",
        "O",
    ]


def test_ill_formed_tags_are_repaired_or_refused() -> None:
    tokens = [Token("a", 0, 1), Token("b", 2, 3), Token("c", 4, 5)]
    assert tags_to_spans(tokens, ["O", "I-PER", "I-LOC"]) == [Span(2, 3, "PER"), Span(4, 5, "LOC")]
    with pytest.raises(SpanError, match="continues no open 'PER' span"):
        tags_to_spans(tokens, ["O", "I-PER", "O"], strict=True)
    with pytest.raises(SpanError, match="not O or PREFIX-LABEL"):
        tags_to_spans(tokens, ["O", "X-PER", "O"])
    with pytest.raises(SpanError, match="never closed"):
        tags_to_spans(tokens, ["U-PER", "B-PER", "I-PER"], strict=True)


def test_bad_spans_are_refused_with_a_clear_error() -> None:
    d = doc(TEXTS[0])
    with pytest.raises(SpanError, match="spans overlap: 0:13"):
        spans_to_tags(d.tokens, [Span(0, 13, "PER"), Span(7, 13, "PER")])
    with pytest.raises(SpanError, match="token boundaries"):
        spans_to_tags(d.tokens, [Span(0, 5, "PER")])
    assert spans_to_tags(d.tokens, [Span(0, 5, "PER")], alignment="expand")[:2] == ["B-PER", "O"]
    with pytest.raises(SpanError, match="outside the text"):
        Document(d.text, d.tokens, (Span(40, 99, "LOC"),))
    with pytest.raises(SpanError, match="no label"):
        Document(d.text, d.tokens, (Span(0, 6, ""),))
    with pytest.raises(SpanError, match="shares a token"):
        spans_to_tags(d.tokens, [Span(0, 3, "A"), Span(4, 6, "B")], alignment="expand")
