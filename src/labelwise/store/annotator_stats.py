"""What the store knows about each annotator: answers given, answers on gold, votes to compare.

Read-only queries for the dashboard and the quality controls; the statistics themselves
(kappas, gold accuracy, weights) are computed by :mod:`labelwise.quality` on these rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from labelwise.store.answers import AnswerSpec, gold_credit
from labelwise.store.engine import Store
from labelwise.store.projects import annotator_row, project_row
from labelwise.store.schema import Annotation, Annotator, Sample, SampleTally

__all__ = [
    "GoldAnswer",
    "PoolVote",
    "annotation_count",
    "gold_answers",
    "labeled_count",
    "pool_votes",
]


@dataclass(frozen=True)
class PoolVote:
    """One annotation on a pool (or eval) sample."""

    sample_id: int
    annotator: str
    value: str


@dataclass(frozen=True)
class GoldAnswer:
    """One annotation on a gold sample, with the gold label it is checked against and whether
    it passed (:func:`labelwise.store.answers.gold_credit`, by the project's answer kind)."""

    sample_id: int
    annotator: str
    value: str
    gold_label: str
    annotator_id: int
    passed: bool


def annotation_count(store: Store, project: str, annotator: str) -> int:
    """How many answers ``annotator`` has given in ``project`` (gold questions included)."""
    with store.read() as session:
        row = project_row(session, project)
        who = annotator_row(session, annotator)
        found = session.scalar(
            select(func.count())
            .select_from(Annotation)
            .where(
                Annotation.project_id == row.id,
                Annotation.annotator_id == who.id,
                Annotation.retracted_at.is_(None),
            )
        )
        return int(found or 0)


def pool_votes(store: Store, project: str) -> list[PoolVote]:
    """Every annotation on a non-gold sample of the project, in the order given."""
    with store.read() as session:
        row = project_row(session, project)
        found = session.execute(
            select(Annotation.sample_id, Annotator.name, Annotation.value)
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .join(Sample, Sample.id == Annotation.sample_id)
            .where(
                Annotation.project_id == row.id,
                Sample.split != "gold",
                Annotation.retracted_at.is_(None),
            )
            .order_by(Annotation.id)
        )
        return [PoolVote(s, a, v) for s, a, v in found]


def gold_answers(store: Store, project: str) -> list[GoldAnswer]:
    """Every answer to a gold question of the project, with its gold label and whether it
    passed."""
    with store.read() as session:
        row = project_row(session, project)
        spec = AnswerSpec.of(row.answer_kind, row.label_space, row.settings)
        found = session.execute(
            select(
                Annotation.sample_id,
                Annotator.name,
                Annotation.value,
                Sample.gold_label,
                Annotator.id,
            )
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .join(Sample, Sample.id == Annotation.sample_id)
            .where(
                Annotation.project_id == row.id,
                Sample.split == "gold",
                Sample.gold_label.is_not(None),
                Annotation.retracted_at.is_(None),
            )
            .order_by(Annotation.id)
        )
        return [
            GoldAnswer(s, a, v, str(g), i, gold_credit(spec, v, str(g))) for s, a, v, g, i in found
        ]


def labeled_count(store: Store, project: str, split: str = "pool") -> int:
    """How many samples of ``split`` are labeled (read from the tally: one row)."""
    with store.read() as session:
        row = project_row(session, project)
        found = session.scalar(
            select(SampleTally.n).where(
                SampleTally.project_id == row.id,
                SampleTally.split == split,
                SampleTally.state == "labeled",
            )
        )
        return int(found or 0)
