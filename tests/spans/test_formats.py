"""Span documents survive JSONL, CoNLL, spaCy JSON and DocBin round trips; bad files are named."""

from __future__ import annotations

import json

import pytest

from labelwise.errors import InvalidInputError
from labelwise.spans.document import Document, Span, SpanError, Token
from labelwise.spans.formats import (
    from_docbin,
    from_spacy_json,
    read_conll,
    read_jsonl,
    to_docbin,
    to_spacy_json,
    write_conll,
    write_jsonl,
)
from labelwise.spans.tokens import tokenize


def make(text: str, spans: list[tuple[int, int, str]], ident: str | None = None) -> Document:
    return Document(text, tuple(tokenize(text)), tuple(Span(*s) for s in spans), ident)


DOCS = [
    make(
        "Angela Merkel met Emmanuel Macron in Paris.",
        [(0, 13, "PER"), (18, 33, "PER"), (37, 42, "LOC")],
        "a",
    ),
    make(
        "Zoë  visited São Paulo —\tand 東京 in 2024!",
        [(0, 3, "PER"), (13, 22, "LOC"), (29, 31, "LOC")],
        "ü",
    ),
    make("  nothing here  ", []),
    make("naïve 🙂 emoji: Zürich\n\nnext", [(8, 13, "X"), (15, 21, "LOC")]),
]


def same_tokens_and_spans(a: Document, b: Document) -> None:
    """Equal up to the text's spacing: token texts and spans by token index agree."""
    assert a.words == b.words

    def by_token(d: Document) -> list[tuple[str, str]]:
        return [(d.text[s.start : s.end], s.label) for s in d.spans]

    assert by_token(a) == by_token(b)


def test_jsonl_round_trip_is_exact() -> None:
    text = write_jsonl(DOCS)
    assert "東京" in text  # not escaped
    assert read_jsonl(text) == DOCS


def test_jsonl_carries_prodigy_token_indices_and_retokenizes_when_absent() -> None:
    record = json.loads(write_jsonl(DOCS[:1]).splitlines()[0])
    assert record["spans"][1] == {
        "start": 18,
        "end": 33,
        "label": "PER",
        "token_start": 3,
        "token_end": 4,
    }
    del record["tokens"]
    assert read_jsonl(json.dumps(record)) == DOCS[:1]


@pytest.mark.parametrize("scheme", ["BIO", "BILUO"])
def test_conll_round_trip_keeps_tokens_and_spans(scheme: str) -> None:
    back = read_conll(write_conll(DOCS[:2], scheme))  # type: ignore[arg-type]
    assert len(back) == 2
    for a, b in zip(DOCS, back, strict=False):
        same_tokens_and_spans(a, b)


def test_conll_reads_extra_columns_and_docstart() -> None:
    text = "-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n"
    (doc,) = read_conll(text)
    assert doc.text == "EU rejects German"
    assert doc.spans == (Span(0, 2, "ORG"), Span(11, 17, "MISC"))


def test_spacy_json_round_trip() -> None:
    data = json.loads(json.dumps(to_spacy_json(DOCS)))
    assert data[0]["paragraphs"][0]["sentences"][0]["tokens"][0]["ner"] == "B-PER"
    assert data[0]["paragraphs"][0]["sentences"][0]["tokens"][6]["ner"] == "U-LOC"
    back = from_spacy_json(data)
    assert [(d.text, d.tokens, d.spans) for d in back] == [
        (d.text, d.tokens, d.spans) for d in DOCS
    ]


@pytest.mark.slow  # loading spaCy takes ~10 s on this machine
def test_docbin_round_trip_is_exact_including_whitespace() -> None:
    pytest.importorskip("spacy")
    assert from_docbin(to_docbin(DOCS)) == DOCS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"text": "ab", "spans": [{"start": 0, "end": 5, "label": "X"}]}', "line 1: span 0:5"),
        (
            '{"text": "a b", "spans": [{"start": 0, "end": 3, "label": "X"}, '
            '{"start": 2, "end": 3, "label": "Y"}]}',
            "spans overlap",
        ),
        ('{"text": "ab", "spans": [{"start": 0, "label": "X"}]}', "line 1: 'end'"),
        ('\n{"spans": []}', "line 2: expected an object with a 'text'"),
        ("{not json", "line 1: not JSON"),
    ],
)
def test_bad_jsonl_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        read_jsonl(text)


def test_bad_conll_and_spacy_json_are_refused() -> None:
    with pytest.raises(SpanError, match="sentence at line 2: tag 1 'I-PER' continues no"):
        read_conll("\nJohn O\nSmith I-PER\n")
    with pytest.raises(InvalidInputError, match="line 1: expected a word and a tag"):
        read_conll("lonely\n")
    bad = [{"paragraphs": [{"raw": "a b", "sentences": [{"tokens": [{"orth": "c"}]}]}]}]
    with pytest.raises(InvalidInputError, match="token 'c' is not next"):
        from_spacy_json(bad)
    with pytest.raises(InvalidInputError, match="whitespace"):
        write_conll([Document("a b", (Token("a b", 0, 3),))])
