"""A sample's label from its answers, and how much annotators agree, per answer kind.

What an answer *is* (its canonical text, its checks) is :mod:`labelwise.store.answers`; this
module combines answers: the majority label, the median (or mean) of numbers, the per-label
majority of label sets, the strict majority of spans (:func:`aggregate_answers`, used when a
sample's ``overlap`` answers are in), Krippendorff's alpha over a project's answers
(:func:`agreement_of_votes`, :func:`project_agreement`) and the per-label Dawid-Skene
re-aggregation of label sets (:func:`label_set_dawid_skene`) and of single labels
(:func:`label_dawid_skene`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.quality.aggregation import dawid_skene
from labelwise.quality.label_sets import (
    jaccard_distance,
    label_set_alpha,
    per_label_dawid_skene,
    per_label_majority,
)
from labelwise.quality.numeric import aggregate_numbers, numeric_alpha
from labelwise.spans.agreement import aggregate_spans, pairwise_span_f1
from labelwise.spans.document import Span
from labelwise.store.aggregation import Aggregator, Vote, majority
from labelwise.store.answers import NUMBER_AGGREGATIONS, AnswerSpec, decode_spans, encode_labels
from labelwise.store.engine import Store
from labelwise.store.errors import StoreError

__all__ = [
    "aggregate_answers",
    "agreement_of_votes",
    "dawid_skene_labels",
    "label_dawid_skene",
    "label_set_dawid_skene",
    "project_agreement",
]


def _rows(values: Sequence[str], labels: Sequence[str]) -> np.ndarray[Any, np.dtype[np.int64]]:
    column = {label: q for q, label in enumerate(labels)}
    rows = np.zeros((len(values), len(labels)), dtype=np.int64)
    for m, text in enumerate(values):
        for label in json.loads(text):
            rows[m, column[label]] = 1
    return rows


def aggregate_answers(spec: AnswerSpec, values: Sequence[str]) -> tuple[str, float | None, str]:
    """One sample's label from its standing answers: ``(value, agreement, method)``."""
    if not values:
        raise StoreError("no answers to aggregate")
    if spec.kind == "label":
        value, agreement = majority(values)
        return value, agreement, "majority"
    if spec.kind == "spans":
        return _aggregate_spans(values)
    items = np.zeros(len(values), dtype=np.intp)
    if spec.kind == "number":
        method = spec.aggregation if spec.aggregation in NUMBER_AGGREGATIONS else "median"
        number = aggregate_numbers(items, [float(v) for v in values], method)  # type: ignore[arg-type]
        return repr(float(number[0]) + 0.0), None, method
    rows = _rows(values, spec.labels)
    chosen = per_label_majority(items, rows)[0]
    value = encode_labels([x for x, on in zip(spec.labels, chosen, strict=True) if on], spec.labels)
    pairs = list(combinations(range(len(values)), 2))
    similarity = (
        1.0
        if not pairs
        else 1.0 - float(np.mean([jaccard_distance(rows[a], rows[b]) for a, b in pairs]))
    )
    return value, similarity, "per_label_majority"


def _aggregate_spans(values: Sequence[str]) -> tuple[str, float | None, str]:
    """Strict-majority spans of one sample's answers; agreement: mean pairwise exact F1."""
    answers = [decode_spans(v) for v in values]
    kept = [span for span, _ in aggregate_spans(answers)]
    value = json.dumps([[s.start, s.end, s.label] for s in kept], separators=(",", ":"))
    agreement = 1.0 if len(answers) < 2 else pairwise_span_f1([[a] for a in answers])
    return value, agreement, "span_majority"


def agreement_of_votes(spec: AnswerSpec, votes: Sequence[Vote], distance: str = "masi") -> float:
    """Krippendorff's alpha of a project's votes: interval metric for numbers, MASI (or
    Jaccard) distance for sets, nominal for labels (as a set of one label each)."""
    samples = {sid: i for i, sid in enumerate(dict.fromkeys(v.sample_id for v in votes))}
    if not samples:
        raise StoreError("no answers yet: agreement needs answers")
    if spec.kind == "spans":
        return _span_agreement(votes)
    items = np.array([samples[v.sample_id] for v in votes], dtype=np.intp)
    try:
        if spec.kind == "number":
            people = {a: i for i, a in enumerate(dict.fromkeys(v.annotator_id for v in votes))}
            who = np.array([people[v.annotator_id] for v in votes], dtype=np.intp)
            return numeric_alpha(items, who, [float(v.value) for v in votes])
        texts = [v.value if spec.kind == "labels" else json.dumps([v.value]) for v in votes]
        return label_set_alpha(items, _rows(texts, spec.labels), distance)  # type: ignore[arg-type]
    except InvalidInputError as error:
        raise StoreError(str(error)) from None


def _span_agreement(votes: Sequence[Vote]) -> float:
    """Mean pairwise exact span F1 over the samples that two or more annotators answered
    (not a Krippendorff alpha: spans have no fixed units to agree on); NaN when none has."""
    by_sample: dict[int, list[list[Span]]] = {}
    for vote in votes:
        by_sample.setdefault(vote.sample_id, []).append(decode_spans(vote.value))
    shared = [
        pairwise_span_f1([[a] for a in answers])
        for answers in by_sample.values()
        if len(answers) >= 2
    ]
    return float(np.mean(shared)) if shared else math.nan


def label_set_dawid_skene(spec: AnswerSpec) -> Aggregator:
    """An :data:`Aggregator` for :func:`labelwise.store.reaggregate` on a multi-label
    project: Dawid-Skene per label; the agreement stored is the mean posterior confidence."""

    def aggregate(votes: Sequence[Vote]) -> dict[int, tuple[str, float | None]]:
        if not votes:
            return {}
        samples = list(dict.fromkeys(v.sample_id for v in votes))
        index = {sid: i for i, sid in enumerate(samples)}
        people = {a: i for i, a in enumerate(dict.fromkeys(v.annotator_id for v in votes))}
        items = np.array([index[v.sample_id] for v in votes], dtype=np.intp)
        who = np.array([people[v.annotator_id] for v in votes], dtype=np.intp)
        chosen, posterior = per_label_dawid_skene(
            items, who, _rows([v.value for v in votes], spec.labels)
        )
        confidence = np.abs(posterior - 0.5).mean(axis=1) + 0.5
        return {
            sid: (
                encode_labels(
                    [x for x, on in zip(spec.labels, chosen[i], strict=True) if on], spec.labels
                ),
                float(confidence[i]),
            )
            for i, sid in enumerate(samples)
        }

    return aggregate


def project_agreement(store: Store, project: str, distance: str = "masi") -> float:
    """Krippendorff's alpha of the standing answers on a project's pool and eval samples (gold
    answers left out), by its answer kind (:func:`agreement_of_votes`); NaN when no two
    answers on a sample differ. StoreError when no sample has two answers yet."""
    from sqlalchemy import select

    from labelwise.store.projects import project_row
    from labelwise.store.schema import Annotation, Sample

    with store.read() as session:
        row = project_row(session, project)
        spec = AnswerSpec.of(row.answer_kind, row.label_space, row.settings)
        votes = [
            Vote(sample_id, annotator_id, value)
            for sample_id, annotator_id, value in session.execute(
                select(Annotation.sample_id, Annotation.annotator_id, Annotation.value)
                .join(Sample, Sample.id == Annotation.sample_id)
                .where(
                    Annotation.project_id == row.id,
                    Sample.split != "gold",
                    Annotation.retracted_at.is_(None),
                )
                .order_by(Annotation.id)
            )
        ]
    return agreement_of_votes(spec, votes, distance)


def label_dawid_skene(spec: AnswerSpec) -> Aggregator:
    """An :data:`Aggregator` for :func:`labelwise.store.reaggregate` on a single-label
    project: Dawid-Skene over every vote; the agreement stored is the posterior of the label."""

    def aggregate(votes: Sequence[Vote]) -> dict[int, tuple[str, float | None]]:
        return {
            sid: (label, sure) for sid, (label, sure) in dawid_skene_labels(spec, votes).items()
        }

    return aggregate


def dawid_skene_labels(spec: AnswerSpec, votes: Sequence[Vote]) -> dict[int, tuple[str, float]]:
    """Dawid-Skene's most probable label of each voted sample and its posterior probability
    (a single-label project's votes; values outside the label space are left out)."""
    column = {label: c for c, label in enumerate(spec.labels)}
    kept = [v for v in votes if v.value in column]
    if not kept:
        return {}
    samples = list(dict.fromkeys(v.sample_id for v in kept))
    index = {sid: i for i, sid in enumerate(samples)}
    people = {a: i for i, a in enumerate(dict.fromkeys(v.annotator_id for v in kept))}
    table = np.array(
        [(index[v.sample_id], people[v.annotator_id], column[v.value]) for v in kept],
        dtype=np.intp,
    )
    found = dawid_skene(table, len(spec.labels), n_items=len(samples), n_annotators=len(people))
    return {
        sid: (spec.labels[int(found.labels[i])], float(found.posterior[i, found.labels[i]]))
        for i, sid in enumerate(samples)
    }
