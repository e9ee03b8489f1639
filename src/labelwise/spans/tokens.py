"""Tokenizers that keep character offsets: a regex one (no dependency) and spaCy's rules.

Both return :class:`~labelwise.spans.document.Token` objects whose ``start``/``end`` index the
original text, so spans found on tokens map back to characters exactly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, Literal

from labelwise.errors import InvalidInputError
from labelwise.spans.document import Token

__all__ = ["TOKEN_PATTERN", "tokenize", "tokens_from_words"]

#: Words (letters, digits, underscores in any script, joined by inner apostrophes, hyphens or
#: dots as in "don't", "state-of-the-art", "U.S"), or any other single non-space character.
TOKEN_PATTERN = re.compile(r"\w+(?:['’\-.]\w+)*|[^\w\s]")

TokenizerName = Literal["regex", "spacy"]


def tokenize(text: str, method: TokenizerName = "regex", lang: str = "en") -> list[Token]:
    """Split ``text`` into tokens with character offsets.

    Parameters
    ----------
    text : the text.
    method : ``"regex"`` (:data:`TOKEN_PATTERN`, no dependency) or ``"spacy"`` (the rule-based
        tokenizer of ``spacy.blank(lang)``: needs spaCy, no model download).
    lang : spaCy's language code (``"en"``, ``"ja"`` needs SudachiPy, ``"xx"`` any language).

    Returns
    -------
    list of Token, in text order.
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"tokenize needs a str, got {type(text).__name__}")
    if method == "regex":
        return [Token(m.group(), m.start(), m.end()) for m in TOKEN_PATTERN.finditer(text)]
    if method == "spacy":
        nlp = _spacy_blank(lang)
        return [
            Token(tok.text, tok.idx, tok.idx + len(tok.text))
            for tok in nlp.make_doc(text)
            if not tok.is_space
        ]
    raise InvalidInputError(f"unknown tokenizer {method!r}; use 'regex' or 'spacy'")


@functools.cache
def _spacy_blank(lang: str) -> Any:
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spaCy ships with the data extra
        raise InvalidInputError(
            "the spacy tokenizer needs spaCy: pip install 'labelwise[spans]'"
        ) from exc
    try:
        return spacy.blank(lang)
    except Exception as exc:  # spaCy raises ImportError/ValueError for unknown languages
        raise InvalidInputError(
            f"spaCy has no blank pipeline for language {lang!r}: {exc}"
        ) from exc


def tokens_from_words(words: Sequence[str], separator: str = " ") -> tuple[str, list[Token]]:
    """Rebuild a text from pre-split words (CoNLL), joined by ``separator``; return it and tokens.

    Use ``separator=""`` for languages written without spaces (Japanese).
    """
    tokens: list[Token] = []
    pos = 0
    for i, word in enumerate(words):
        if not word:
            raise InvalidInputError(f"word {i} is empty; CoNLL tokens must have text")
        if i:
            pos += len(separator)
        tokens.append(Token(word, pos, pos + len(word)))
        pos += len(word)
    return separator.join(words), tokens
