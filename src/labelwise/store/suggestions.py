"""The model's suggestions as served with tasks, and the answers given after them.

:func:`record_suggestion` keeps what the annotation page showed (one row per change: asking
again for the same suggestion adds nothing); :func:`answered_suggestions` pairs each standing
answer with the last suggestion its annotator was served on that task before answering, the
rows suggestion acceptance is counted from (:mod:`labelwise.quality.acceptance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select

from labelwise.store.engine import Store, utcnow
from labelwise.store.projects import annotator_row, project_row
from labelwise.store.schema import Annotation, Annotator, Round, Sample, Suggestion, Task

__all__ = ["AnsweredSuggestion", "answered_suggestions", "record_suggestion"]


@dataclass(frozen=True)
class AnsweredSuggestion:
    """One standing answer and the suggestion its annotator was shown before giving it."""

    annotation_id: int
    sample_id: int
    annotator: str
    answer: str
    suggestion: str
    confidence: float | None
    round_number: int | None
    model_version: str | None


def record_suggestion(
    store: Store,
    task_id: int,
    annotator: str,
    value: str,
    confidence: float | None,
    round_number: int | None,
    *,
    now: datetime | None = None,
) -> bool:
    """Keep that ``annotator`` was shown ``value`` on the task; False when the last row of the
    task for them says the same (nothing written). The model version is the round's."""
    with store.write() as session:
        task = session.get_one(Task, task_id)
        who = annotator_row(session, annotator)
        last = session.scalars(
            select(Suggestion)
            .where(Suggestion.task_id == task_id, Suggestion.annotator_id == who.id)
            .order_by(Suggestion.id.desc())
            .limit(1)
        ).first()
        if last is not None and (last.value, last.round_number) == (value, round_number):
            return False
        version = None
        if round_number is not None:
            version = session.scalar(
                select(Round.model_version).where(
                    Round.project_id == task.project_id, Round.number == round_number
                )
            )
        session.add(
            Suggestion(
                project_id=task.project_id,
                task_id=task_id,
                sample_id=task.sample_id,
                annotator_id=who.id,
                value=value,
                confidence=confidence,
                round_number=round_number,
                model_version=version,
                served_at=now or utcnow(),
            )
        )
        return True


def answered_suggestions(store: Store, project: str) -> list[AnsweredSuggestion]:
    """Every standing answer on a pool sample of ``project`` that followed a suggestion, with
    the last suggestion served to its annotator on its task before it (answer order)."""
    with store.read() as session:
        row = project_row(session, project)
        before = and_(
            Suggestion.task_id == Annotation.task_id,
            Suggestion.annotator_id == Annotation.annotator_id,
            Suggestion.served_at <= Annotation.created_at,
        )
        last = (
            select(Annotation.id.label("annotation_id"), func.max(Suggestion.id).label("shown"))
            .join(Suggestion, before)
            .join(Sample, Sample.id == Annotation.sample_id)
            .where(
                Annotation.project_id == row.id,
                Annotation.retracted_at.is_(None),
                Sample.split == "pool",
            )
            .group_by(Annotation.id)
            .subquery()
        )
        found = session.execute(
            select(
                Annotation.id,
                Annotation.sample_id,
                Annotator.name,
                Annotation.value,
                Suggestion.value,
                Suggestion.confidence,
                Suggestion.round_number,
                Suggestion.model_version,
            )
            .join(last, last.c.annotation_id == Annotation.id)
            .join(Suggestion, Suggestion.id == last.c.shown)
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .order_by(Annotation.id)
        )
        return [AnsweredSuggestion(*r) for r in found]
