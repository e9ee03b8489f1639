"""NER projects (``<Labels>`` over ``<Text>``): span annotations in, span predictions out.

Label Studio stores a span as a result region ``{"from_name", "to_name", "type": "labels",
"value": {"start", "end", "text", "labels"}}``; ``start``/``end`` index the task text in
characters (code points: Label Studio's editor stores code points since label-studio-frontend
PR #308; offsets that only fit as UTF-16 code units, as older versions wrote them around
emoji, are converted back, checked against ``value.text``).

* :func:`span_label` reads an annotation into its *span label*: the canonical JSON
  ``[[start, end, label], ...]`` of its spans, sorted (``"[]"``: the annotator found no
  entity, which is an answer too). Revisions of NER projects carry it where classification
  revisions carry a choice, so "same label" means the same spans.
* :func:`training_set` turns texts and span labels into token lists and BIO tags (regex
  tokens, :func:`labelwise.spans.tokens.tokenize`; a span off token boundaries widens to the
  tokens it touches), what the CRF tagger learns through :class:`labelwise.loop.RoundEngine`.
* :func:`span_results` turns the tagger's best path into prediction regions, each with its
  ``score`` (:func:`labelwise.spans.suggest.suggest_spans`: the least marginal of its tags).

Spans that overlap (Label Studio allows them; a tagger gives one tag per token) or that widen
onto a token another span already holds are dropped, the earlier one kept, with a log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio.label_config import LabelConfig
from labelwise.spans.document import Document, Span, Token
from labelwise.spans.tags import spans_to_tags
from labelwise.spans.tokens import tokenize

if TYPE_CHECKING:
    from labelwise.loop import RoundEngine
    from labelwise.server.labelstudio.settings import BackendSettings

logger = logging.getLogger(__name__)

#: The store label of a revision without entities (a NER store project's first label).
OUTSIDE = "O"
#: The most span regions one annotation may carry.
MAX_SPANS = 1000

__all__ = [
    "OUTSIDE",
    "decode_spans",
    "encode_spans",
    "has_entities",
    "ner_engine",
    "sequence_scores",
    "span_label",
    "span_results",
    "store_label",
    "store_label_space",
    "tokens_of",
    "training_set",
    "words_of",
]


def tokens_of(text: str) -> list[Token]:
    """The tokens a NER project's tagger reads (the regex tokenizer: no dependency)."""
    return tokenize(text, "regex")


def words_of(texts: Sequence[str]) -> list[list[str]]:
    """The token texts of each text: what the tagger reads."""
    return [[t.text for t in tokens_of(text)] for text in texts]


def encode_spans(spans: Sequence[Span]) -> str:
    """The canonical span label: ``[[start, end, label], ...]`` sorted, compact JSON."""
    rows = [[s.start, s.end, s.label] for s in sorted(spans)]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def decode_spans(label: str) -> list[Span]:
    """The spans of a span label (:func:`encode_spans`)."""
    try:
        rows = json.loads(label)
        return [Span(int(start), int(end), str(name)) for start, end, name in rows]
    except (ValueError, TypeError) as exc:
        problem = f"{label[:80]!r} is not a span label [[start, end, label], ...]"
        raise InvalidInputError(problem) from exc


def store_label_space(config: LabelConfig) -> list[str]:
    """The store project's label space: :data:`OUTSIDE`, then the entity types."""
    return [OUTSIDE, *config.labels]


def store_label(label: str) -> str:
    """What the store keeps as a revision's label: its first span's type, or ``O``.

    The spans themselves are kept in the sample's metadata (``spans``); the store label only
    lets the store count labeled samples as for every other project."""
    spans = decode_spans(label)
    return spans[0].label if spans else OUTSIDE


def _utf16_to_code_points(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Code-point offsets of UTF-16 code-unit offsets ``start``/``end``, or None off a
    character boundary or past the end."""
    units = 0
    found: dict[int, int] = {}
    for index, char in enumerate(text):
        found[units] = index
        units += 2 if ord(char) > 0xFFFF else 1
    found[units] = len(text)
    if start in found and end in found:
        return found[start], found[end]
    return None


def _region_span(item: Mapping[str, Any], config: LabelConfig, text: str) -> Span:
    """One ``labels`` region as a span of ``text`` (checked; see the module docstring)."""
    if item.get("to_name") != config.to_name:
        raise InvalidInputError(
            f"the annotation's <Labels name={config.from_name!r}> region labels "
            f"{item.get('to_name')!r}, but the config's labels {config.to_name!r}"
        )
    value = item.get("value")
    if not isinstance(value, Mapping):
        raise InvalidInputError("a <Labels> region needs a 'value' object")
    start, end, labels = value.get("start"), value.get("end"), value.get("labels")
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (start, end)):
        raise InvalidInputError(
            f"a <Labels> region needs integer 'start' and 'end', got {start!r} and {end!r}"
        )
    assert isinstance(start, int) and isinstance(end, int)
    if not isinstance(labels, list) or not labels:
        raise InvalidInputError("a <Labels> region needs a non-empty list 'labels'")
    for label in labels:
        if not isinstance(label, str) or label not in config.labels:
            raise InvalidInputError(
                f"label {label!r} is not in the config's labels {list(config.labels)}"
            )
    quoted = value.get("text")
    fits = 0 <= start < end <= len(text)
    if fits and (not isinstance(quoted, str) or text[start:end] == quoted):
        return Span(start, end, labels[0])
    converted = _utf16_to_code_points(text, start, end) if isinstance(quoted, str) else None
    if converted is not None and text[converted[0] : converted[1]] == quoted:
        return Span(converted[0], converted[1], labels[0])
    raise InvalidInputError(
        f"the span {start}:{end} ({labels[0]!r}) does not fit the task text of {len(text)} "
        f"characters" + (f" or quote {quoted!r}" if isinstance(quoted, str) else "")
    )


def span_label(annotation: Mapping[str, Any], config: LabelConfig, text: str) -> str:
    """The annotation's span label (:func:`encode_spans`): its ``<Labels>`` regions, checked.

    Regions of other controls are skipped. Overlapping spans, and spans that widen onto a
    token another one holds, are dropped (the earlier kept; see the module docstring).

    Raises
    ------
    InvalidInputError
        For a result that is not a list of at most :data:`MAX_SPANS` objects, or a region of
        the config's ``<Labels>`` with another ``to_name``, offsets that are not integers or
        do not fit the text (nor its ``value.text``), or a label outside the config's.
    """
    result = annotation.get("result") or []
    if not isinstance(result, list) or len(result) > MAX_SPANS:
        raise InvalidInputError(
            f"an annotation's 'result' must be a list of at most {MAX_SPANS} regions"
        )
    spans: list[Span] = []
    for item in result:
        if not isinstance(item, Mapping):
            raise InvalidInputError("an annotation's 'result' holds something that is no object")
        if item.get("from_name") == config.from_name:
            spans.append(_region_span(item, config, text))
    return encode_spans(_taggable(spans, tokens_of(text)))


def _taggable(spans: Sequence[Span], tokens: Sequence[Token]) -> list[Span]:
    """The spans that give one tag per token once widened to token boundaries, in order."""
    kept: list[Span] = []
    held: set[int] = set()
    for span in sorted(set(spans), key=lambda s: (s.start, -s.end, s.label)):
        covered = {i for i, t in enumerate(tokens) if t.start < span.end and span.start < t.end}
        if not covered or covered & held or any(span.overlaps(k) for k in kept):
            why = "covers no token" if not covered else "overlaps another"
            logger.info("dropping span %d:%d (%s): it %s", span.start, span.end, span.label, why)
            continue
        held |= covered
        kept.append(span)
    return kept


def training_set(
    examples: Sequence[tuple[str, str]],
) -> tuple[list[list[str]], list[list[str]]]:
    """Token lists and BIO tags of ``(text, span label)`` pairs (spans widened to tokens)."""
    words: list[list[str]] = []
    tags: list[list[str]] = []
    for text, label in examples:
        tokens = tokens_of(text)
        words.append([t.text for t in tokens])
        tags.append(spans_to_tags(tokens, decode_spans(label), "BIO", "expand"))
    return words, tags


def has_entities(labels: Sequence[str]) -> bool:
    """Whether any span label holds a span: before that the tagger has nothing to learn."""
    return any(decode_spans(label) for label in labels)


def ner_engine(settings: BackendSettings) -> RoundEngine:
    """A fresh round engine: a CRF tagger and the settings' sequence strategy (``mnlp``
    unless ``--strategy`` names a sequence strategy)."""
    from labelwise.loop import RoundEngine
    from labelwise.spans.crf import CRFTagger

    return RoundEngine(CRFTagger(), settings.sequence_strategy)


def span_results(
    config: LabelConfig, engine: RoundEngine, texts: Sequence[str]
) -> list[list[dict[str, Any]]]:
    """The tagger's spans of each text as prediction regions, each with its ``score``."""
    from labelwise.spans.suggest import suggest_spans

    documents = [Document(text, tuple(tokens_of(text))) for text in texts]
    found = suggest_spans(engine.model, documents)
    return [
        [
            {
                "id": f"labelwise-{k}",
                "from_name": config.from_name,
                "to_name": config.to_name,
                "type": "labels",
                "value": {
                    "start": s.span.start,
                    "end": s.span.end,
                    "text": text[s.span.start : s.span.end],
                    "labels": [s.span.label],
                },
                "score": round(s.score, 6),
            }
            for k, s in enumerate(suggestions)
        ]
        for text, suggestions in zip(texts, found, strict=True)
    ]


def sequence_scores(
    engine: RoundEngine, words: Sequence[Sequence[str]], seed: int
) -> NDArray[np.float64] | None:
    """The sequence strategy's own score of each token list (higher = label sooner); None
    for a strategy that reads nothing of the model (random)."""
    strategy = engine.strategy
    if not strategy.needs:
        return None
    inputs = engine.inputs(list(words), rng=seed)
    return np.asarray(strategy.score(inputs, np.random.default_rng(seed)), dtype=np.float64)
