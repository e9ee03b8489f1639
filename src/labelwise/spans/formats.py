"""Import and export of span annotations: JSONL spans, CoNLL (BIO), spaCy's JSON and DocBin.

- **JSONL spans** (Prodigy's and doccano's shape): one document per line,
  ``{"text", "spans": [{"start", "end", "label", "token_start", "token_end"}], "tokens": [...],
  "id"}``; ``token_end`` is inclusive, as Prodigy writes it. Tokens are re-made by the
  tokenizer when a line has none.
- **CoNLL**: one token per line, the word in the first column and the tag (BIO or BILUO) in the
  last, a blank line between sentences, ``-DOCSTART-`` lines skipped. CoNLL keeps no spacing:
  the text is rebuilt by joining words with ``separator``.
- **spaCy JSON**: spaCy v2's training format (``[{"id", "paragraphs": [{"raw", "sentences":
  [{"tokens": [{"id", "orth", "ner"}]}]}]}]``, BILUO tags), which ``spacy convert`` reads.
- **DocBin**: spaCy v3's binary corpus (``.spacy``), needs spaCy; whitespace is kept exactly.

Every reader checks what it reads (offsets in the text, non-overlapping spans) and names the
line or document that is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from labelwise.errors import InvalidInputError
from labelwise.spans.document import Document, Span, SpanError, Token
from labelwise.spans.tags import Scheme, spans_to_tags, tags_to_spans
from labelwise.spans.tokens import TokenizerName, tokenize, tokens_from_words

__all__ = [
    "FormatError",
    "conll_document",
    "conll_sentences",
    "from_docbin",
    "from_spacy_json",
    "read_conll",
    "read_jsonl",
    "spacy_json_documents",
    "to_docbin",
    "to_spacy_json",
    "write_conll",
    "write_jsonl",
]


class FormatError(InvalidInputError):
    """A span file's problem at one place: ``line`` (from 1) and the ``problem`` there."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


# --- JSONL spans -------------------------------------------------------------------------


def _token_index(tokens: Sequence[Token]) -> tuple[dict[int, int], dict[int, int]]:
    return {t.start: i for i, t in enumerate(tokens)}, {t.end: i for i, t in enumerate(tokens)}


def document_to_record(document: Document) -> dict[str, Any]:
    """The JSON object of one document (the JSONL line, before ``json.dumps``)."""
    starts, ends = _token_index(document.tokens)
    spans = []
    for span in document.spans:
        item: dict[str, Any] = {"start": span.start, "end": span.end, "label": span.label}
        if span.start in starts and span.end in ends:
            item["token_start"], item["token_end"] = starts[span.start], ends[span.end]
        spans.append(item)
    record: dict[str, Any] = {
        "text": document.text,
        "tokens": [
            {"text": t.text, "start": t.start, "end": t.end, "id": i}
            for i, t in enumerate(document.tokens)
        ],
        "spans": spans,
    }
    if document.id is not None:
        record["id"] = document.id
    return record


def record_to_document(
    record: Any, tokenizer: TokenizerName = "regex", where: str = "record"
) -> Document:
    """A document from its JSON object; ``where`` names it in errors (``"line 3"``)."""
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise InvalidInputError(f"{where}: expected an object with a 'text' string")
    text = record["text"]
    try:
        if record.get("tokens") is not None:
            tokens = tuple(
                Token(str(t["text"]), int(t["start"]), int(t["end"])) for t in record["tokens"]
            )
        else:
            tokens = tuple(tokenize(text, tokenizer))
        spans = tuple(
            Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in record.get("spans") or []
        )
        ident = record.get("id")
        return Document(text, tokens, spans, None if ident is None else str(ident))
    except (KeyError, TypeError, ValueError) as exc:
        error = SpanError if isinstance(exc, SpanError) else InvalidInputError
        raise error(f"{where}: {exc}") from exc


def write_jsonl(documents: Iterable[Document]) -> str:
    """JSONL text, one document per line (UTF-8 characters kept as they are)."""
    return "".join(json.dumps(document_to_record(d), ensure_ascii=False) + "\n" for d in documents)


def read_jsonl(text: str, tokenizer: TokenizerName = "regex") -> list[Document]:
    """Documents from JSONL text; blank lines are skipped."""
    documents = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"line {n}: not JSON ({exc.msg})") from exc
        documents.append(record_to_document(record, tokenizer, f"line {n}"))
    return documents


# --- CoNLL -------------------------------------------------------------------------------


def write_conll(
    documents: Iterable[Document], scheme: Scheme = "BIO", delimiter: str = "\t"
) -> str:
    """CoNLL text: ``word<delimiter>tag`` per token, a blank line after each document."""
    blocks = []
    for document in documents:
        tags = spans_to_tags(document.tokens, document.spans, scheme)
        for i, tok in enumerate(document.tokens):
            if any(c.isspace() for c in tok.text):
                raise InvalidInputError(f"token {i} {tok.text!r} holds whitespace: CoNLL cannot")
        blocks.append(
            "".join(
                f"{t.text}{delimiter}{tag}\n" for t, tag in zip(document.tokens, tags, strict=True)
            )
        )
    return "\n".join(blocks)


def conll_sentences(text: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """The sentences of CoNLL text, each with the line it starts on: ``(line, [(word, tag)])``.

    Raises
    ------
    FormatError
        Naming the line that holds no word and tag.
    """
    rows: list[tuple[str, str]] = []
    first = 0
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if rows:
                yield first, rows
            rows = []
            continue
        columns = line.split()
        if columns[0] == "-DOCSTART-":
            continue
        if len(columns) < 2:
            raise FormatError(n, f"expected a word and a tag, got {line!r}")
        if not rows:
            first = n
        rows.append((columns[0], columns[-1]))
    if rows:
        yield first, rows


def conll_document(
    rows: Sequence[tuple[str, str]], separator: str = " ", strict: bool = True
) -> Document:
    """One CoNLL sentence's ``(word, tag)`` rows as a document, the text rebuilt by
    ``separator``; SpanError for an ill-formed tag sequence when ``strict``."""
    raw, tokens = tokens_from_words([w for w, _ in rows], separator)
    spans = tags_to_spans(tokens, [t for _, t in rows], strict=strict)
    return Document(raw, tuple(tokens), tuple(spans))


def read_conll(text: str, separator: str = " ", strict: bool = True) -> list[Document]:
    """Documents from CoNLL text (one per sentence), the text rebuilt by ``separator``.

    ``strict`` refuses ill-formed tag sequences (an ``I-`` continuing nothing); pass False to
    read them as conlleval does (such a tag starts a span).
    """
    documents = []
    for first, rows in conll_sentences(text):
        try:
            documents.append(conll_document(rows, separator, strict))
        except SpanError as exc:
            raise SpanError(f"sentence at line {first}: {exc}") from exc
    return documents


# --- spaCy v2 JSON -----------------------------------------------------------------------


def to_spacy_json(documents: Iterable[Document]) -> list[dict[str, Any]]:
    """spaCy v2 training JSON (``json.dumps`` it), one paragraph and sentence per document."""
    out = []
    for i, document in enumerate(documents):
        tags = spans_to_tags(document.tokens, document.spans, "BILUO")
        tokens = [
            {"id": j, "orth": t.text, "ner": tag}
            for j, (t, tag) in enumerate(zip(document.tokens, tags, strict=True))
        ]
        out.append(
            {"id": i, "paragraphs": [{"raw": document.text, "sentences": [{"tokens": tokens}]}]}
        )
    return out


def _locate(raw: str, words: Sequence[str], where: str) -> list[Token]:
    tokens, pos = [], 0
    for word in words:
        start = raw.find(word, pos)
        if start < 0 or raw[pos:start].strip():
            raise InvalidInputError(f"{where}: token {word!r} is not next in the raw text")
        tokens.append(Token(word, start, start + len(word)))
        pos = start + len(word)
    return tokens


def spacy_json_documents(data: Any) -> Iterator[tuple[str, Document]]:
    """Documents from spaCy v2 training JSON, one per paragraph, each with its place
    (``"3"``: document 3's only paragraph, ``"3.1"``: its second); the text is ``raw`` where
    given, else the words joined by spaces."""
    if not isinstance(data, list):
        raise InvalidInputError("spaCy JSON must be a list of documents")
    for i, item in enumerate(data):
        paragraphs = item.get("paragraphs", []) if isinstance(item, dict) else []
        for p, paragraph in enumerate(paragraphs):
            where = f"document {i} paragraph {p}"
            try:
                rows = [
                    (t["orth"], t.get("ner", "O") or "O")
                    for s in paragraph["sentences"]
                    for t in s["tokens"]
                ]
            except (KeyError, TypeError, AttributeError) as exc:
                raise InvalidInputError(f"{where}: missing {exc}") from exc
            words = [w for w, _ in rows]
            raw = paragraph.get("raw")
            if isinstance(raw, str):
                tokens = _locate(raw, words, where)
            else:
                raw, tokens = tokens_from_words(words)
            tags = ["O" if t == "-" else t for _, t in rows]
            try:
                spans = tags_to_spans(tokens, tags, strict=True)
            except SpanError as exc:
                raise SpanError(f"{where}: {exc}") from exc
            place = str(i) if len(paragraphs) == 1 else f"{i}.{p}"
            yield place, Document(raw, tuple(tokens), tuple(spans))


def from_spacy_json(data: Any) -> list[Document]:
    """Documents from spaCy v2 training JSON, one per paragraph
    (:func:`spacy_json_documents` without their places)."""
    return [document for _, document in spacy_json_documents(data)]


# --- spaCy DocBin ------------------------------------------------------------------------


def _spacy() -> Any:
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spaCy ships with the spans extra
        raise InvalidInputError("DocBin needs spaCy: pip install 'labelwise[spans]'") from exc
    return spacy


def to_docbin(documents: Iterable[Document], lang: str = "xx") -> bytes:
    """spaCy's DocBin bytes (write them to ``name.spacy``); text and whitespace kept exactly."""
    spacy = _spacy()
    from spacy.tokens import Doc, DocBin

    vocab = spacy.blank(lang).vocab
    docbin = DocBin(store_user_data=True)
    for document in documents:
        words: list[str] = []
        spaces: list[bool] = []
        pos = 0
        for tok in document.tokens:
            gap = document.text[pos : tok.start]
            if gap.startswith(" ") and words and not spaces[-1]:
                spaces[-1], gap = True, gap[1:]
            if gap:
                words.append(gap)
                spaces.append(False)
            words.append(tok.text)
            spaces.append(False)
            pos = tok.end
        tail = document.text[pos:]
        if tail.startswith(" ") and words and not spaces[-1]:
            spaces[-1], tail = True, tail[1:]
        if tail:
            words.append(tail)
            spaces.append(False)
        doc = Doc(vocab, words=words, spaces=spaces)
        ents = []
        for span in document.spans:
            ent = doc.char_span(span.start, span.end, label=span.label)
            if ent is None:
                raise SpanError(f"span {span.start}:{span.end} is off spaCy's token boundaries")
            ents.append(ent)
        doc.ents = ents
        if document.id is not None:
            doc.user_data["id"] = document.id
        docbin.add(doc)
    return bytes(docbin.to_bytes())


def from_docbin(data: bytes, lang: str = "xx") -> list[Document]:
    """Documents from DocBin bytes; spaCy's whitespace tokens are not kept as tokens."""
    spacy = _spacy()
    from spacy.tokens import DocBin

    vocab = spacy.blank(lang).vocab
    try:
        docs = list(DocBin().from_bytes(data).get_docs(vocab))
    except Exception as exc:  # spaCy raises assorted errors for bytes that are not a DocBin
        raise InvalidInputError(f"not spaCy DocBin bytes: {exc}") from exc
    documents = []
    for doc in docs:
        tokens = tuple(Token(t.text, t.idx, t.idx + len(t.text)) for t in doc if not t.is_space)
        spans = tuple(Span(e.start_char, e.end_char, e.label_) for e in doc.ents)
        ident = doc.user_data.get("id")
        documents.append(Document(doc.text, tokens, spans, ident))
    return documents
