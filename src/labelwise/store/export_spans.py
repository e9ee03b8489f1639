"""Export a spans project's labeled set as CoNLL, spaCy JSON or spaCy DocBin.

Each labeled sample becomes one :class:`~labelwise.spans.document.Document`: the sample's
text, its aggregated spans (the ``label`` of :func:`labelwise.store.export_labeled`) and its
id, tokenized by :func:`labelwise.spans.tokens.tokenize` (regex) with tokens split where a span
starts or ends inside one, so that every span lies on token boundaries. The files are written
by :mod:`labelwise.spans.formats` (the one writer of each format):

- ``conll``: ``word<TAB>tag`` (BIO), a blank line between samples; CoNLL keeps neither ids
  nor spacing.
- ``spacy-json``: spaCy v2's training JSON, one document per sample, the text kept as
  ``raw`` (offsets read back exactly).
- ``docbin``: spaCy v3's ``.spacy`` bytes, text, spans and ids kept; needs spaCy.

A span that starts or ends on whitespace cannot be put on tokens; it is refused, naming the
sample.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from labelwise.spans.document import Document, Span, SpanError, Token
from labelwise.spans.tokens import tokenize
from labelwise.store.engine import Store
from labelwise.store.errors import StoreError
from labelwise.store.projects import project_row

__all__ = ["SPAN_FORMATS", "SpanFormat", "export_spans", "span_documents", "split_tokens"]

SpanFormat = Literal["conll", "spacy-json", "docbin"]
SPAN_FORMATS: tuple[str, ...] = ("conll", "spacy-json", "docbin")

#: What to install for the ``docbin`` format (spaCy).
DOCBIN_EXTRA = "pip install 'labelwise[spans]' (or pip install spacy)"


def split_tokens(tokens: Sequence[Token], cuts: Iterable[int]) -> list[Token]:
    """``tokens`` with each one cut at the offsets of ``cuts`` strictly inside it.

    Parameters
    ----------
    tokens : tokens in text order, non-overlapping.
    cuts : character offsets (span starts and ends).

    Returns
    -------
    list of Token, covering the same characters, in order.
    """
    points = sorted(set(cuts))
    out: list[Token] = []
    for tok in tokens:
        inner = [p for p in points if tok.start < p < tok.end]
        edges = [tok.start, *inner, tok.end]
        for a, b in itertools.pairwise(edges):
            out.append(Token(tok.text[a - tok.start : b - tok.start], a, b))
    return out


def _document(ident: str, text: str, label: Sequence[dict[str, Any]]) -> Document:
    spans = tuple(Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in label)
    tokens = split_tokens(tokenize(text), [p for s in spans for p in (s.start, s.end)])
    try:
        return Document(text, tuple(tokens), spans, ident)
    except SpanError as exc:
        raise StoreError(f"sample {ident!r}: {exc}") from exc


def span_documents(store: Store, project: str, version: int | None = None) -> list[Document]:
    """The labeled samples of spans project ``project`` (or of its dataset version
    ``version``) as documents, in sample order.

    Raises
    ------
    StoreError
        When the project's answers are not spans, or a sample has no text.
    """
    from labelwise.store.export import _rows

    with store.read() as session:
        kind = project_row(session, project).answer_kind
    if kind != "spans":
        raise StoreError(
            f"the {'/'.join(SPAN_FORMATS)} formats are for spans projects; project {project!r} "
            f"has answer kind {kind!r} (export it as jsonl, csv or parquet)"
        )
    documents = []
    for row in _rows(store, project, version, include_retracted=False, native=True):
        if not isinstance(row["text"], str):
            raise StoreError(f"sample {row['id']!r} has no text to export with its spans")
        documents.append(_document(str(row["id"]), row["text"], row["label"]))
    return documents


def _spacy_or_refuse() -> None:
    try:
        import spacy  # noqa: F401
    except ImportError as exc:
        message = f"the docbin format needs spaCy, which is not installed: {DOCBIN_EXTRA}"
        raise StoreError(message) from exc


def export_spans(
    store: Store,
    project: str,
    out: str | Path,
    file_format: SpanFormat | str,
    *,
    version: int | None = None,
) -> int:
    """Write spans project ``project``'s labeled set (or dataset version ``version``) to
    ``out`` as ``conll``, ``spacy-json`` or ``docbin``.

    Returns
    -------
    int
        The number of samples written.

    Raises
    ------
    StoreError
        For another format, a project whose answers are not spans, a missing folder, spaCy
        missing for ``docbin``, or a span that cannot lie on tokens (naming the sample).
    """
    from labelwise.spans import formats

    if file_format not in SPAN_FORMATS:
        raise StoreError(f"span export format must be one of {', '.join(SPAN_FORMATS)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise StoreError(f"cannot write {out}: folder {out.parent} does not exist")
    if file_format == "docbin":
        _spacy_or_refuse()
    documents = span_documents(store, project, version)
    try:
        if file_format == "conll":
            out.write_text(formats.write_conll(documents), encoding="utf-8")
        elif file_format == "spacy-json":
            data = formats.to_spacy_json(documents)
            out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        else:
            out.write_bytes(formats.to_docbin(documents))
    except SpanError as exc:  # the writers name the span, not the sample: find it
        raise StoreError(f"{_culprit(documents, file_format)}: {exc}") from exc
    return len(documents)


def _culprit(documents: Sequence[Document], file_format: str) -> str:
    from labelwise.spans import formats

    for document in documents:
        try:
            if file_format == "docbin":
                formats.to_docbin([document])
            else:
                formats.to_spacy_json([document])
        except SpanError:
            return f"sample {document.id!r} cannot be written as {file_format}"
    return f"a sample cannot be written as {file_format}"
