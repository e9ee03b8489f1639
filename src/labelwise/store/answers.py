"""What annotators answer, per project: one label, a number, a set of labels or NER spans.

A project's ``answer_kind`` (a column, see migrations 0005 and 0006) is ``label``
(classification), ``number`` (regression), ``labels`` (multi-label) or ``spans`` (named
entities). Every answer is kept in the one string
column of ``annotation`` (append-only, retractable, as before), in a canonical text:

- ``label``: the label itself;
- ``number``: the shortest decimal text of the float (``"3.5"``); the project's settings hold
  ``{"answer": {"min": ..., "max": ..., "step": ..., "aggregation": "median" | "mean"}}``
  (each optional) and answers outside them are refused (:func:`check_numeric_answer`);
- ``labels``: a JSON array of the chosen labels in label-space order (``'["a","c"]'``; the
  empty set ``'[]'`` is an answer too);
- ``spans``: a JSON array of ``[start, end, label]`` triples, sorted, in Python character
  (code point) offsets into the sample's text (``'[[0,5,"PER"],[12,18,"LOC"]]'``; ``'[]'``
  says the text has no entity). Spans must be in bounds, non-empty, non-overlapping and
  labeled from the label space (:func:`encode_spans`).

A sample's label, once ``overlap`` annotators answered, is the majority label, the median (or
mean) of the numbers, or the per-label majority of the sets (:mod:`labelwise.quality.numeric`
and :mod:`labelwise.quality.label_sets`). The agreement stored with it is the share of answers
equal to the label for ``label``, the mean pairwise Jaccard similarity of the sets for
``labels``, and None for numbers (:func:`answer_agreement` gives the project's Krippendorff
alpha, interval metric for numbers and MASI or Jaccard for sets). Spans aggregate by strict
majority of the annotators (:func:`labelwise.spans.agreement.aggregate_spans`), with the mean
pairwise exact span F1 as their agreement.

An answer to a gold question passes (:func:`gold_credit`) when it says what the gold label says,
whatever its serialisation: the same label, the same set of labels, the same number (within half
the project's ``step``, so on the same grid point; else equal as floats), or, for a gold
document of spans, an exact span F1 (:func:`labelwise.spans.agreement.span_f1`) of at least the
project's ``gold_f1`` (``{"answer": {"gold_f1": ...}}``, default :data:`GOLD_SPAN_F1`): finding
5 of 6 entities and nothing else is F1 0.91, a pass; 3 of 6 is 0.67, a failure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labelwise.errors import InvalidInputError
from labelwise.quality.numeric import check_numeric_answer
from labelwise.spans.agreement import span_f1
from labelwise.spans.document import Span, SpanError, check_spans
from labelwise.store.errors import StoreError
from labelwise.store.schema import ANSWER_KINDS

__all__ = [
    "GOLD_SPAN_F1",
    "AnswerError",
    "AnswerSpec",
    "check_answer_settings",
    "decode_answer",
    "decode_spans",
    "encode_answer",
    "encode_spans",
    "gold_credit",
    "gold_score",
]

#: The longest multi-label answer text (a label set must stay short; span answers, in the
#: ``Text`` value columns since migration 0006, are bounded by the sample's text instead).
MAX_ANSWER_CHARS = 200
NUMBER_AGGREGATIONS: tuple[str, ...] = ("median", "mean")
#: No text to check span ends against: only ``start >= 0`` and ``end > start`` are checked.
_NO_END = 2**62
#: A gold document of spans passes from this exact span F1 on (a spans project's
#: ``{"answer": {"gold_f1": ...}}`` setting overrides it).
GOLD_SPAN_F1 = 0.8


class AnswerError(StoreError, InvalidInputError):
    """An answer that the project does not accept; the message names the problem."""


@dataclass(frozen=True)
class AnswerSpec:
    """What a project accepts as an answer."""

    kind: str = "label"
    labels: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    aggregation: str = "median"
    gold_f1: float = GOLD_SPAN_F1

    @classmethod
    def of(cls, kind: str, labels: Sequence[str], settings: Mapping[str, Any] | None) -> AnswerSpec:
        """The spec of a project from its answer kind, label space and settings."""
        answer = dict((settings or {}).get("answer") or {})
        return cls(
            kind=kind,
            labels=tuple(labels),
            low=answer.get("min"),
            high=answer.get("max"),
            step=answer.get("step"),
            aggregation=str(answer.get("aggregation", "median")),
            gold_f1=float(answer.get("gold_f1", GOLD_SPAN_F1)),
        )


def _number_or_none(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StoreError(f"answer {name} must be a finite number, got {value!r}")
    return float(value)


def check_answer_settings(
    kind: str, labels: Sequence[str], settings: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The checked ``"answer"`` settings of a project of ``kind`` (None for ``label``).

    Raises StoreError for an unknown kind, bounds that are not finite or in the wrong order, a
    step that is not positive, an unknown aggregation, or (``labels``) a label space whose
    encoded set would not fit the store's answer column.
    """
    if kind not in ANSWER_KINDS:
        raise StoreError(f"answer kind must be one of {', '.join(ANSWER_KINDS)}, got {kind!r}")
    given = (settings or {}).get("answer")
    if given is not None and not isinstance(given, Mapping):
        raise StoreError(f"the 'answer' setting must be a mapping, got {given!r}")
    answer = dict(given or {})
    if kind == "label":
        if answer:
            raise StoreError("'answer' settings (bounds, step) apply to number projects only")
        return None
    if kind == "spans":
        unknown = sorted(set(answer) - {"aggregation", "gold_f1"})
        if unknown:
            raise StoreError(
                f"a spans project takes no answer settings {unknown}: use aggregation, gold_f1"
            )
        if answer.get("aggregation", "majority") != "majority":
            raise StoreError("a spans project aggregates by span 'majority'")
        if not labels:
            raise StoreError("a spans project needs entity labels (for example PER,ORG,LOC)")
        gold_f1 = _number_or_none("gold_f1", answer.get("gold_f1"))
        if gold_f1 is not None and not 0.0 < gold_f1 <= 1.0:
            raise StoreError(f"answer gold_f1 must be in (0, 1], got {gold_f1:g}")
        return {"aggregation": "majority"} | ({} if gold_f1 is None else {"gold_f1": gold_f1})
    if kind == "labels":
        unknown = sorted(set(answer) - {"aggregation"})
        if unknown:
            raise StoreError(f"a multi-label project takes no answer settings {unknown}")
        if answer.get("aggregation", "majority") != "majority":
            raise StoreError("a multi-label project aggregates by per-label 'majority'")
        if len(encode_labels(labels, labels)) > MAX_ANSWER_CHARS:
            raise StoreError(
                f"a multi-label project's labels, written as one answer, must fit in "
                f"{MAX_ANSWER_CHARS} characters: use fewer or shorter labels"
            )
        return {"aggregation": "majority"}
    unknown = sorted(set(answer) - {"min", "max", "step", "aggregation"})
    if unknown:
        raise StoreError(f"unknown answer settings {unknown}: use min, max, step, aggregation")
    low = _number_or_none("min", answer.get("min"))
    high = _number_or_none("max", answer.get("max"))
    step = _number_or_none("step", answer.get("step"))
    if low is not None and high is not None and not low < high:
        raise StoreError(f"answer min ({low:g}) must be below max ({high:g})")
    if step is not None and step <= 0:
        raise StoreError(f"answer step must be positive, got {step:g}")
    aggregation = answer.get("aggregation", "median")
    if aggregation not in NUMBER_AGGREGATIONS:
        raise StoreError(f"answer aggregation must be 'median' or 'mean', got {aggregation!r}")
    return {"min": low, "max": high, "step": step, "aggregation": aggregation}


def encode_labels(chosen: Sequence[str], labels: Sequence[str]) -> str:
    """A set of labels as stored: a compact JSON array in label-space order."""
    wanted = set(chosen)
    return json.dumps([x for x in labels if x in wanted], separators=(",", ":"), ensure_ascii=False)


def _number_text(number: float, spec: AnswerSpec) -> str:
    if spec.step is not None:  # snap onto the grid, dropping float noise (0.1 * 3)
        k = round((number - (spec.low or 0.0)) / spec.step)
        number = float(format((spec.low or 0.0) + k * spec.step, ".12g"))
    return repr(float(number) + 0.0)  # + 0.0: no "-0.0"


def encode_answer(
    spec: AnswerSpec, value: object, project: str = "", text: str | None = None
) -> str:
    """``value`` (a label, a number or its text, a list of labels, a list of spans, or the
    JSON text of either list) in the canonical text the store keeps; AnswerError naming the
    problem when refused. ``text`` is the sample's text, against which span answers are
    bounds-checked (without it only ``start >= 0`` is)."""
    where = f"project {project!r}'s" if project else "the project's"
    if spec.kind == "spans":
        return encode_spans(value, spec.labels, text, where)
    if spec.kind == "label":
        if not isinstance(value, str) or value not in spec.labels:
            raise AnswerError(
                f"label {value!r} is not in {where} label space ({', '.join(spec.labels)})"
            )
        return value
    if spec.kind == "number":
        number = _parse_number(value)
        try:
            check_numeric_answer(number, spec.low, spec.high, spec.step)
        except InvalidInputError as error:
            raise AnswerError(str(error)) from None
        return _number_text(number, spec)
    chosen = _parse_labels(value)
    unknown = [x for x in chosen if x not in spec.labels]
    if unknown:
        raise AnswerError(
            f"labels {unknown} are not in {where} label space ({', '.join(spec.labels)})"
        )
    if len(set(chosen)) != len(chosen):
        raise AnswerError(f"the answer repeats a label: {chosen}")
    return encode_labels(chosen, spec.labels)


def _parse_number(value: object) -> float:
    if isinstance(value, bool):
        raise AnswerError(f"the answer must be a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise AnswerError(f"the answer must be a number, got {value!r}") from None
    raise AnswerError(f"the answer must be a number, got {value!r}")


def _parse_labels(value: object) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise AnswerError(
                f"a multi-label answer must be a list of labels, got {value!r}"
            ) from None
    if not isinstance(value, list | tuple) or not all(isinstance(x, str) for x in value):
        raise AnswerError(f"a multi-label answer must be a list of labels, got {value!r}")
    return list(value)


def _parse_spans(value: object) -> list[object]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise AnswerError(
                f"a spans answer must be a JSON list of [start, end, label], got {value!r}"
            ) from None
    if not isinstance(value, list | tuple):
        raise AnswerError(f"a spans answer must be a list of [start, end, label], got {value!r}")
    return list(value)


def _span_of(i: int, item: object) -> Span:
    if isinstance(item, Mapping):  # {"start":, "end":, "label":} as JSONL span files write
        item = [item.get("start"), item.get("end"), item.get("label")]
    if isinstance(item, Span):
        return item
    if not isinstance(item, list | tuple) or len(item) != 3:
        raise AnswerError(f"span {i} must be [start, end, label], got {item!r}")
    start, end, label = item
    for name, offset in (("start", start), ("end", end)):
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise AnswerError(f"span {i}: {name} must be an integer offset, got {offset!r}")
    if not isinstance(label, str):
        raise AnswerError(f"span {i}: the label must be a string, got {label!r}")
    return Span(int(start), int(end), label)


def encode_spans(
    value: object, labels: Sequence[str], text: str | None = None, where: str = "the project's"
) -> str:
    """Spans as stored: a compact JSON array of ``[start, end, label]``, sorted.

    Parameters
    ----------
    value : a list (or its JSON text) of ``[start, end, label]`` triples, ``{"start", "end",
        "label"}`` mappings or :class:`~labelwise.spans.Span` objects, in code-point offsets.
    labels : the project's entity labels.
    text : the sample's text; spans must lie within it (without it, only ``start >= 0``).

    Raises
    ------
    AnswerError
        Naming the span that is malformed, empty, out of bounds, labeled outside ``labels``,
        or overlapping another.
    """
    spans = [_span_of(i, item) for i, item in enumerate(_parse_spans(value))]
    space = set(labels)
    for span in spans:
        if span.label not in space:
            raise AnswerError(
                f"span {span.start}:{span.end} has label {span.label!r}, not in {where} label "
                f"space ({', '.join(labels)})"
            )
    try:
        ordered = check_spans(spans, len(text) if text is not None else _NO_END)
    except SpanError as error:
        raise AnswerError(str(error)) from None
    return json.dumps(
        [[s.start, s.end, s.label] for s in ordered], separators=(",", ":"), ensure_ascii=False
    )


def decode_spans(text: str) -> list[Span]:
    """A stored spans answer as :class:`~labelwise.spans.Span` objects, sorted."""
    return [Span(int(a), int(b), str(label)) for a, b, label in json.loads(text)]


def decode_answer(
    spec: AnswerSpec, text: str
) -> str | float | list[str] | list[dict[str, int | str]]:
    """A stored answer as its value: the label, the float, the list of labels, or the spans
    as JSONL span files write them (``[{"start": 0, "end": 5, "label": "PER"}, ...]``: what
    :func:`labelwise.store.export_labeled` writes in a spans project's ``label``)."""
    if spec.kind == "spans":
        spans: list[dict[str, int | str]] = [
            {"start": s.start, "end": s.end, "label": s.label} for s in decode_spans(text)
        ]
        return spans
    if spec.kind == "number":
        return float(text)
    if spec.kind == "labels":
        return list(json.loads(text))
    return text


def _spec_of(spec: AnswerSpec | str) -> AnswerSpec:
    return AnswerSpec(kind=spec) if isinstance(spec, str) else spec


def gold_score(spec: AnswerSpec | str, value: str, gold_label: str) -> float:
    """How much of the gold answer ``gold_label`` the answer ``value`` (both stored texts, or
    any serialisation :func:`encode_answer` takes) gets right, in [0, 1].

    ``spec`` is the project's (or only its answer kind: a number is then compared without a
    step). Spans score their exact span F1 against the gold spans (1 when both are empty);
    the other kinds 1 or 0: the same label, the same set of labels (in any order), the same
    number (within half the ``step``, else equal as floats). An answer that cannot be read as
    its kind scores 0 unless it is the gold text itself.
    """
    spec = _spec_of(spec)
    if value == gold_label:
        return 1.0
    try:
        if spec.kind == "spans":
            got = [_span_of(i, item) for i, item in enumerate(_parse_spans(value))]
            gold = [_span_of(i, item) for i, item in enumerate(_parse_spans(gold_label))]
            return span_f1([got], [gold], "exact").f1
        if spec.kind == "labels":
            return float(set(_parse_labels(value)) == set(_parse_labels(gold_label)))
        if spec.kind == "number":
            answer, expected = _parse_number(value), _parse_number(gold_label)
            if spec.step is not None:
                return float(abs(answer - expected) < spec.step / 2)
            return float(math.isclose(answer, expected, rel_tol=1e-9, abs_tol=1e-12))
    except (AnswerError, TypeError):
        return 0.0
    return 0.0


def gold_credit(spec: AnswerSpec | str, value: str, gold_label: str) -> bool:
    """Whether the answer ``value`` to a gold question passes against ``gold_label``: a span
    F1 of at least ``spec.gold_f1`` (:data:`GOLD_SPAN_F1` by default) for spans, a full
    score (:func:`gold_score`) for the other kinds."""
    spec = _spec_of(spec)
    need = spec.gold_f1 if spec.kind == "spans" else 1.0
    return gold_score(spec, value, gold_label) >= need
