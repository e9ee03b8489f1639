"""Span files as the rows of ``labelwise import``: a spans project's samples and their spans.

The formats are those :mod:`labelwise.store.export_spans` writes, read by
:mod:`labelwise.spans.formats` (their one reader each), plus Prodigy's JSONL:

- ``.conll``, ``.bio``, ``.iob``: CoNLL, one sentence per sample (BIO or BILUO tags), its text
  the words joined by spaces; ids are the file's digest and the sentence's number
  (``"3f09c2a81b-1"``, ``"3f09c2a81b-2"``...);
- ``.json``: spaCy v2 training JSON, one paragraph per sample, the text its ``raw``; ids are the
  file's digest and the document's place (``"3f09c2a81b-0"``, ``"3f09c2a81b-0.1"`` for a second
  paragraph);
- ``.spacy``: spaCy v3 DocBin (needs spaCy), ids from the docs' ``user_data["id"]`` (as the
  export writes them), else the file's digest and their numbers from 1;
- ``.jsonl``: the store's own rows (``id``, ``text``, ``label`` a list of spans) or Prodigy's
  (``spans`` as ``{"start", "end", "label"}`` objects; its ``tokens`` are not kept).

The digest (:func:`file_digest`, the first 10 hex digits of the file's SHA-256) makes the ids of
formats without ids unique across the files of a project, whatever the files are called (an
upload reaches the importer under a made-up name), while importing the same file again finds
the same ids and changes nothing.

Each document becomes a row ``{"id", "text", "label": [[start, end, label], ...]}`` with the
place it came from (the sentence's first line; the document's number for JSON and DocBin), so
that the row path (:func:`labelwise.store._rows.load_rows`) checks it against the project's
entity labels and names the file and place of the first bad one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from labelwise.errors import InvalidInputError
from labelwise.spans.document import Document, SpanError
from labelwise.store.errors import ImportFileError
from labelwise.store.readers import RawRow, read_rows

__all__ = [
    "SPAN_SUFFIXES",
    "SpanFileFormat",
    "file_digest",
    "jsonl_has_spans",
    "span_format",
    "span_labels",
    "span_rows",
    "span_unit",
]

SpanFileFormat = Literal["conll", "spacy-json", "docbin", "jsonl"]

#: The suffixes of span files that only a spans project takes.
SPAN_SUFFIXES: dict[str, SpanFileFormat] = {
    ".conll": "conll",
    ".bio": "conll",
    ".iob": "conll",
    ".json": "spacy-json",
    ".spacy": "docbin",
}


def span_format(path: Path) -> SpanFileFormat | None:
    """The span format of ``path`` from its suffix; None for the other import files."""
    return SPAN_SUFFIXES.get(path.suffix.lower())


def span_unit(file_format: SpanFileFormat) -> str:
    """What a row's place counts: ``line`` (CoNLL, JSONL) or ``document`` (JSON, DocBin)."""
    return "document" if file_format in ("spacy-json", "docbin") else "line"


def jsonl_has_spans(path: Path, encoding: str) -> bool:
    """Whether a JSONL file's first row holds spans: Prodigy's ``spans``, or a ``label`` that
    is a list of spans (a spans project's export)."""
    for raw in read_rows(path, "jsonl", encoding):
        if "spans" in raw.fields and "label" not in raw.fields:
            return True
        label = raw.fields.get("label")
        return isinstance(label, list) and any(_is_span(item) for item in label)
    return False


def _is_span(item: object) -> bool:
    if isinstance(item, dict):
        return {"start", "end", "label"} <= set(item)
    return isinstance(item, list) and len(item) == 3 and isinstance(item[0], int)


def span_rows(path: Path, file_format: SpanFileFormat, encoding: str = "utf-8") -> list[RawRow]:
    """The rows of span file ``path``, each ``{"id", "text", "label"}`` (JSONL rows keep their
    other fields), with the place it came from.

    Raises
    ------
    ImportFileError
        Naming the file and the line (or document) that cannot be read: not text in
        ``encoding``, not JSON, a line without a tag, a tag sequence that is ill-formed.
    """
    if file_format == "jsonl":
        return [_prodigy_row(raw) for raw in read_rows(path, "jsonl", encoding)]
    if file_format == "docbin":
        return _docbin_rows(path)
    text = _text(path, encoding)
    if file_format == "conll":
        return _conll_rows(path, text)
    return _spacy_json_rows(path, text)


def file_digest(path: Path) -> str:
    """The first 10 hex digits of the SHA-256 of ``path``'s bytes: the prefix of the ids made
    for the documents of a format without ids."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:10]


def span_labels(rows: list[RawRow]) -> set[str]:
    """The entity labels the rows' spans name (a new project's label space)."""
    found: set[str] = set()
    for raw in rows:
        label = raw.fields.get("label")
        if isinstance(label, str):
            try:
                label = json.loads(label)
            except json.JSONDecodeError:
                continue  # the row path names it
        for span in label if isinstance(label, list) else []:
            name = span.get("label") if isinstance(span, dict) else None
            if isinstance(span, list | tuple) and len(span) == 3:
                name = span[2]
            if isinstance(name, str):
                found.add(name)
    return found


def _row(place: int, ident: str, document: Document) -> RawRow:
    label = [[s.start, s.end, s.label] for s in document.spans]
    return RawRow(place, {"id": ident, "text": document.text, "label": label})


def _prodigy_row(raw: RawRow) -> RawRow:
    fields = dict(raw.fields)
    if "label" not in fields and "spans" in fields:
        fields["label"] = fields.pop("spans")
        fields.pop("tokens", None)
    return RawRow(raw.line, fields)


def _text(path: Path, encoding: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ImportFileError(str(path), line, f"not {encoding} text: {exc.reason}") from None


def _conll_rows(path: Path, text: str) -> list[RawRow]:
    from labelwise.spans.formats import FormatError, conll_document, conll_sentences

    rows = []
    prefix = file_digest(path)
    try:
        for number, (line, words) in enumerate(conll_sentences(text), start=1):
            try:
                rows.append(_row(line, f"{prefix}-{number}", conll_document(words)))
            except SpanError as exc:
                raise ImportFileError(str(path), line, f"the sentence here: {exc}") from None
    except FormatError as exc:
        raise ImportFileError(str(path), exc.line, exc.problem) from None
    return rows


def _spacy_json_rows(path: Path, text: str) -> list[RawRow]:
    from labelwise.spans.formats import spacy_json_documents

    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            str(path), exc.lineno, f"not valid JSON: {exc.msg}", column=exc.colno
        ) from None
    prefix = file_digest(path)
    try:
        return [
            _row(n, f"{prefix}-{place}", document)
            for n, (place, document) in enumerate(spacy_json_documents(data), start=1)
        ]
    except InvalidInputError as exc:  # SpanError too; the message names document and paragraph
        raise ImportFileError(str(path), None, f"spaCy JSON {exc}") from None


def _docbin_rows(path: Path) -> list[RawRow]:
    from labelwise.spans.formats import from_docbin

    try:
        documents = from_docbin(path.read_bytes())
    except InvalidInputError as exc:
        raise ImportFileError(str(path), None, str(exc)) from None
    prefix = file_digest(path)
    return [
        _row(n, document.id if document.id is not None else f"{prefix}-{n}", document)
        for n, document in enumerate(documents, start=1)
    ]
