"""The review queue: the answers a reviewer should look at, and why.

Four reasons put a sample in the queue:

- ``disagreement``: its standing answers differ (overlap);
- ``confident_model``: an answer contradicts the suggestion its annotator was shown, made
  with at least the project's ``review_confidence`` (default :data:`REVIEW_CONFIDENCE`);
- ``dawid_skene``: an answer differs from Dawid-Skene's most probable label, fitted on every
  standing answer of the project, when that label's posterior is at least
  :data:`DAWID_SKENE_SURE` (more likely than every other label together; single-label
  projects);
- ``gold_failed``: an answer to a gold question fails against its gold label
  (:func:`labelwise.store.answers.gold_credit`: the same label, label set or number, or spans
  with an exact F1 of at least the project's ``gold_f1``).

A pool sample is resolved once a reviewer set its label (method ``review``,
:func:`labelwise.store.reaggregate`); a gold question once a reviewer checked it
(:func:`review_gold`: the gold label confirmed, or corrected).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import distinct, func, select

from labelwise.store import _audit
from labelwise.store.aggregation import REVIEW_METHOD, Vote
from labelwise.store.annotator_stats import gold_answers
from labelwise.store.answer_aggregation import dawid_skene_labels
from labelwise.store.answers import AnswerSpec, encode_answer
from labelwise.store.browse import SampleView, views_of
from labelwise.store.engine import Store
from labelwise.store.errors import NotFoundError, StoreError
from labelwise.store.projects import project_row
from labelwise.store.schema import Annotation, Annotator, Audit, Sample
from labelwise.store.suggestions import answered_suggestions

__all__ = [
    "REVIEW_CONFIDENCE",
    "REVIEW_KINDS",
    "ReviewItem",
    "ReviewReason",
    "review_confidence",
    "review_gold",
    "review_queue",
]

ReviewKind = Literal["disagreement", "confident_model", "dawid_skene", "gold_failed"]
REVIEW_KINDS: tuple[str, ...] = ("disagreement", "confident_model", "dawid_skene", "gold_failed")
#: An answer against a suggestion at least this confident goes to review (project setting
#: ``review_confidence``).
REVIEW_CONFIDENCE = 0.9
#: Dawid-Skene's label counts against an answer from this posterior on.
DAWID_SKENE_SURE = 0.5
#: The audit action of a reviewed gold question.
GOLD_REVIEW = "review_gold"


def review_confidence(settings: Mapping[str, Any]) -> float:
    """The project's ``review_confidence`` setting, or the default."""
    return float(settings.get("review_confidence", REVIEW_CONFIDENCE))


@dataclass(frozen=True)
class ReviewReason:
    """Why a sample is in the queue: an annotator's answer against what ``expected`` says
    (the suggestion, Dawid-Skene's label, the gold label; None for a disagreement)."""

    kind: str
    annotator: str | None = None
    answer: str | None = None
    expected: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class ReviewItem:
    """A sample to review and every reason it is in the queue."""

    sample: SampleView
    reasons: tuple[ReviewReason, ...]

    @property
    def resolved(self) -> bool:
        return self.sample.method == REVIEW_METHOD


def _disagreements(store: Store, project_id: int) -> dict[int, list[ReviewReason]]:
    with store.read() as session:
        found = session.scalars(
            select(Annotation.sample_id)
            .join(Sample, Sample.id == Annotation.sample_id)
            .where(
                Annotation.project_id == project_id,
                Annotation.retracted_at.is_(None),
                Sample.split != "gold",
            )
            .group_by(Annotation.sample_id)
            .having(func.count(distinct(Annotation.value)) > 1)
        )
        return {sid: [ReviewReason("disagreement")] for sid in found}


def _votes(store: Store, project_id: int) -> tuple[list[Vote], dict[int, str]]:
    with store.read() as session:
        rows = session.execute(
            select(Annotation.sample_id, Annotation.annotator_id, Annotation.value, Annotator.name)
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .join(Sample, Sample.id == Annotation.sample_id)
            .where(
                Annotation.project_id == project_id,
                Annotation.retracted_at.is_(None),
                Sample.split != "gold",
            )
            .order_by(Annotation.id)
        ).all()
    return [Vote(s, a, v) for s, a, v, _ in rows], {a: n for _, a, _, n in rows}


def _against_dawid_skene(
    store: Store, project_id: int, spec: AnswerSpec
) -> dict[int, list[ReviewReason]]:
    if spec.kind != "label":
        return {}
    votes, names = _votes(store, project_id)
    labels = dawid_skene_labels(spec, votes)
    found: dict[int, list[ReviewReason]] = {}
    for vote in votes:
        label, sure = labels.get(vote.sample_id, (vote.value, 1.0))
        if vote.value != label and sure >= DAWID_SKENE_SURE:
            found.setdefault(vote.sample_id, []).append(
                ReviewReason("dawid_skene", names[vote.annotator_id], vote.value, label, sure)
            )
    return found


def review_queue(
    store: Store,
    project: str,
    *,
    kinds: Collection[str] = REVIEW_KINDS,
    open_only: bool = True,
    limit: int = 100,
) -> list[ReviewItem]:
    """The samples of ``project`` to review (store order), each with its reasons.

    Parameters
    ----------
    kinds : the reasons to look for (any of :data:`REVIEW_KINDS`)
    open_only : leave out what a reviewer already resolved
    limit : at most this many samples
    """
    unknown = set(kinds) - set(REVIEW_KINDS)
    if unknown:
        raise StoreError(f"unknown review kinds {sorted(unknown)}: use {', '.join(REVIEW_KINDS)}")
    with store.read() as session:
        row = project_row(session, project)
        project_id, settings = row.id, dict(row.settings)
        spec = AnswerSpec.of(row.answer_kind, row.label_space, row.settings)
        checked = set(
            int(i)
            for i in session.scalars(
                select(Audit.object_id).where(
                    Audit.project_id == project_id, Audit.action == GOLD_REVIEW
                )
            )
            if i is not None
        )
    reasons: dict[int, list[ReviewReason]] = {}

    def add(found: Mapping[int, list[ReviewReason]]) -> None:
        for sid, some in found.items():
            reasons.setdefault(sid, []).extend(some)

    if "disagreement" in kinds:
        add(_disagreements(store, project_id))
    if "confident_model" in kinds:
        threshold = review_confidence(settings)
        for a in answered_suggestions(store, project):
            if a.answer != a.suggestion and (a.confidence or 0.0) >= threshold:
                add(
                    {
                        a.sample_id: [
                            ReviewReason(
                                "confident_model", a.annotator, a.answer, a.suggestion, a.confidence
                            )
                        ]
                    }
                )
    if "dawid_skene" in kinds:
        add(_against_dawid_skene(store, project_id, spec))
    if "gold_failed" in kinds:
        for g in gold_answers(store, project):
            if not g.passed and not (open_only and g.sample_id in checked):
                failed = ReviewReason("gold_failed", g.annotator, g.value, g.gold_label)
                add({g.sample_id: [failed]})
    with store.read() as session:
        views = {v.id: v for v in views_of(session, project_id, sorted(reasons))}
    items = [ReviewItem(views[sid], tuple(reasons[sid])) for sid in sorted(reasons)]
    if open_only:
        items = [i for i in items if not i.resolved]
    return items[:limit]


def review_gold(store: Store, project: str, sample_id: int, label: str, reviewer: str) -> bool:
    """A reviewer's check of a failed gold question: ``label`` is the right answer (any form
    :func:`~labelwise.store.answers.encode_answer` takes for the project's answer kind; kept in
    its canonical form). The gold label is corrected when it differs (True), confirmed
    otherwise (False); audited."""
    with store.write() as session:
        row = project_row(session, project, lock=True)
        sample = session.get(Sample, sample_id)
        if sample is None or sample.project_id != row.id or sample.split != "gold":
            raise NotFoundError(f"no gold question {sample_id} in project {project!r}")
        spec = AnswerSpec.of(row.answer_kind, row.label_space, row.settings)
        label = encode_answer(spec, label, project, sample.text)  # AnswerError names a bad one
        before = sample.gold_label
        sample.gold_label = label
        _audit.record(
            session,
            actor=reviewer,
            action=GOLD_REVIEW,
            object_type="sample",
            object_id=sample_id,
            project_id=row.id,
            detail={"gold_label": before, "label": label},
        )
        return before != label
