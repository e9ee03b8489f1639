"""From annotations to labels: majority vote here, other methods through one hook.

A sample gets its label when ``overlap`` annotators have answered (the project setting). The
default method is a simple majority, ties going to the answer given first. Methods that look
at the whole project at once (Dawid-Skene in :mod:`labelwise.quality`) plug in through
:func:`reaggregate`, which hands every vote of the project to a function and writes back what
it returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelwise.store import _audit
from labelwise.store._hot import REVIEW_METHOD
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import StoreError
from labelwise.store.projects import project_row
from labelwise.store.schema import Annotation, Label

__all__ = ["REVIEW_METHOD", "Aggregator", "Vote", "majority", "reaggregate"]


@dataclass(frozen=True)
class Vote:
    """One annotation as an aggregator sees it."""

    sample_id: int
    annotator_id: int
    value: str


#: A project-wide aggregation: every vote in, ``{sample_id: (label, agreement)}`` out.
Aggregator = Callable[[Sequence[Vote]], Mapping[int, tuple[str, float | None]]]


def majority(values: Sequence[str]) -> tuple[str, float]:
    """The most frequent answer and the share of annotators who gave it.

    Ties go to the tied answer given first. ``agreement = count(winner) / len(values)``: the
    observed agreement with the majority, 1.0 when everyone agrees.

    Examples
    --------
    >>> majority(["cat", "dog", "dog"])
    ('dog', 0.6666666666666666)
    """
    if not values:
        raise StoreError("majority of no annotations")
    counts = Counter(values)
    top = max(counts.values())
    winner = next(value for value in values if counts[value] == top)
    return winner, top / len(values)


def write_majority_label(session: Session, project_id: int, sample_id: int) -> Label:
    """Aggregate a sample's annotations by majority and store the label (same transaction)."""
    values = list(
        session.scalars(
            select(Annotation.value)
            .where(Annotation.sample_id == sample_id, Annotation.retracted_at.is_(None))
            .order_by(Annotation.created_at, Annotation.id)
        )
    )
    value, agreement = majority(values)
    label = Label(
        sample_id=sample_id,
        project_id=project_id,
        value=value,
        method="majority",
        agreement=agreement,
        n_annotations=len(values),
        updated_at=utcnow(),
    )
    return session.merge(label)


def reaggregate(
    store: Store,
    project: str,
    aggregator: Aggregator,
    method: str,
    *,
    actor: str = "labelwise",
) -> int:
    """Recompute the labels of every annotated, labeled sample with ``aggregator``.

    Parameters
    ----------
    aggregator : callable
        Receives every vote on the project's labeled samples (annotation order) and returns
        ``{sample_id: (label, agreement)}``; samples it leaves out keep their label.
    method : str
        The name stored with each label (``"dawid_skene"``...). A label a reviewer set
        (method :data:`REVIEW_METHOD`) is only replaced by another review: re-aggregation
        leaves it as it is.

    Returns
    -------
    int
        The number of labels written.
    """
    with store.write() as session:
        row = project_row(session, project, lock=True)
        labeled = select(Label.sample_id).where(Label.project_id == row.id, Label.n_annotations > 0)
        votes = [
            Vote(sample_id, annotator_id, value)
            for sample_id, annotator_id, value in session.execute(
                select(Annotation.sample_id, Annotation.annotator_id, Annotation.value)
                .where(Annotation.sample_id.in_(labeled), Annotation.retracted_at.is_(None))
                .order_by(Annotation.created_at, Annotation.id)
            )
        ]
        result = aggregator(votes)
        space = set(row.label_space)
        current = {
            label.sample_id: label
            for label in session.scalars(
                select(Label).where(Label.project_id == row.id, Label.n_annotations > 0)
            )
        }
        now = utcnow()
        written = 0
        for sample_id, (value, agreement) in result.items():
            if sample_id not in current:
                raise StoreError(f"{method} returned a label for sample {sample_id}, not labeled")
            if not _fits(row.answer_kind, space, row.label_space, row.settings, value):
                raise StoreError(f"{method} returned {value!r}, outside the label space")
            label = current[sample_id]
            if label.method == REVIEW_METHOD and method != REVIEW_METHOD:
                continue  # a reviewer's label wins over aggregation
            written += 1
            label.value, label.agreement, label.method, label.updated_at = (
                value,
                agreement,
                method,
                now,
            )
        _audit.record(
            session,
            actor=actor,
            action="reaggregate",
            object_type="project",
            object_id=row.id,
            project_id=row.id,
            detail={"method": method, "labels": written},
        )
        return written


def _fits(
    kind: str, space: set[str], labels: Sequence[str], settings: Mapping[str, object], value: str
) -> bool:
    """Whether ``value`` is an answer in the canonical text of a project of answer ``kind``."""
    if kind == "label":
        return value in space
    from labelwise.store.answers import AnswerError, AnswerSpec, encode_answer

    spec = AnswerSpec.of(kind, labels, settings)
    try:
        return encode_answer(spec, value) == value
    except AnswerError:
        return False
