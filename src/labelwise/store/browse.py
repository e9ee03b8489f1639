"""Read-only views for the lead's pages: samples with their answers, disagreements, balance.

``browse_samples`` filters a project's samples by split, state, label, annotator and text and
returns one page of them, each with its aggregated label (value, method, agreement), the
answers that still stand (retracted ones are left out, as everywhere) and why it was chosen
(the round that first queued it: strategy, score, model version; :class:`Why`).
:func:`browse_all` walks every sample that passes the same filters, for an export.
``disagreements`` lists the non-gold samples whose standing answers differ.
``annotated_class_balance`` counts labels that annotators gave (``n_annotations > 0``):
imported labels, such as the eval split's, are not the annotators' work and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from labelwise.store.engine import Store
from labelwise.store.errors import NotFoundError
from labelwise.store.projects import project_row
from labelwise.store.schema import Annotation, Annotator, Label, Round, Sample, Score, Task

__all__ = [
    "BrowseFilters",
    "SampleAnswer",
    "SampleView",
    "Why",
    "annotated_class_balance",
    "browse_all",
    "browse_samples",
    "disagreements",
    "sample_view",
    "views_of",
]


@dataclass(frozen=True)
class SampleAnswer:
    """One standing answer on a sample."""

    annotator: str
    value: str
    created_at: datetime
    seconds_spent: float | None


@dataclass(frozen=True)
class Why:
    """Why a sample was queued: the round that first queued it, its strategy and model, and
    the sample's score in that round (None when the round scored nothing, as a random one)."""

    round: int
    strategy: str
    model_version: str | None
    score: float | None


@dataclass(frozen=True)
class BrowseFilters:
    """The data browser's filters; a field left None keeps every sample.

    ``split`` / ``state``: of this split or in this state; ``label``: aggregated label;
    ``annotator``: answered by them (answers taken back do not count); ``search``: text or
    external id contains it (case-insensitive); ``round``: first queued by this round;
    ``min_score``: scored at least this by that round.
    """

    split: str | None = None
    state: str | None = None
    label: str | None = None
    annotator: str | None = None
    search: str | None = None
    round: int | None = None
    min_score: float | None = None


@dataclass(frozen=True)
class SampleView:
    """A sample with its aggregated label (None while unlabeled) and its standing answers."""

    id: int
    external_id: str
    text: str | None
    uri: str | None
    split: str
    state: str
    label: str | None
    method: str | None
    agreement: float | None
    answers: tuple[SampleAnswer, ...]
    why: Why | None = None


_COLUMNS = (
    Sample.id,
    Sample.external_id,
    Sample.text,
    Sample.uri,
    Sample.split,
    Sample.state,
    Label.value,
    Label.method,
    Label.agreement,
)


def _standing(annotator: str | None = None) -> Any:
    """The sample ids with a standing answer (by ``annotator`` when given)."""
    query = select(Annotation.sample_id).where(Annotation.retracted_at.is_(None))
    if annotator is not None:
        query = query.join(Annotator, Annotator.id == Annotation.annotator_id).where(
            Annotator.name == annotator
        )
    return query


def _answers(session: Session, sample_ids: Sequence[int]) -> dict[int, list[SampleAnswer]]:
    found: dict[int, list[SampleAnswer]] = defaultdict(list)
    if not sample_ids:
        return found
    rows = session.execute(
        select(
            Annotation.sample_id,
            Annotator.name,
            Annotation.value,
            Annotation.created_at,
            Annotation.seconds_spent,
        )
        .join(Annotator, Annotator.id == Annotation.annotator_id)
        .where(Annotation.sample_id.in_(sample_ids), Annotation.retracted_at.is_(None))
        .order_by(Annotation.id)
    )
    for sample_id, name, value, at, seconds in rows:
        found[sample_id].append(SampleAnswer(name, value, at, seconds))
    return found


def _first_rounds(project_id: int) -> Any:
    """``(sample_id, round_id)``: the first round that queued each sample of the project."""
    return (
        select(Task.sample_id.label("sample_id"), func.min(Task.round_id).label("round_id"))
        .where(Task.project_id == project_id, Task.round_id.is_not(None))
        .group_by(Task.sample_id)
        .subquery()
    )


def _whys(session: Session, project_id: int, sample_ids: Sequence[int]) -> dict[int, Why]:
    if not sample_ids:
        return {}
    first = _first_rounds(project_id)
    rows = session.execute(
        select(first.c.sample_id, Round.number, Round.strategy, Round.model_version, Score.value)
        .join(Round, Round.id == first.c.round_id)
        .outerjoin(
            Score, and_(Score.round_id == first.c.round_id, Score.sample_id == first.c.sample_id)
        )
        .where(first.c.sample_id.in_(sample_ids))
    )
    return {
        sid: Why(n, strategy, version, None if score is None else float(score))
        for sid, n, strategy, version, score in rows
    }


def _views(session: Session, query: Any, project_id: int | None = None) -> list[SampleView]:
    rows = session.execute(query).all()
    answers = _answers(session, [row[0] for row in rows])
    whys = {} if project_id is None else _whys(session, project_id, [row[0] for row in rows])
    return [
        SampleView(
            id=row[0],
            external_id=row[1],
            text=row[2],
            uri=row[3],
            split=row[4],
            state=row[5],
            label=row[6],
            method=row[7],
            agreement=row[8],
            answers=tuple(answers.get(row[0], ())),
            why=whys.get(row[0]),
        )
        for row in rows
    ]


def views_of(session: Session, project_id: int, sample_ids: Sequence[int]) -> list[SampleView]:
    """The project's samples of these ids, with labels, answers and why (store order)."""
    if not sample_ids:
        return []
    query = (
        select(*_COLUMNS)
        .outerjoin(Label, Label.sample_id == Sample.id)
        .where(Sample.project_id == project_id, Sample.id.in_(sample_ids))
        .order_by(Sample.id)
    )
    return _views(session, query, project_id)


def _filtered(project_id: int, filters: BrowseFilters) -> Any:
    """The samples of the project that pass ``filters`` (a query, unordered)."""
    query = (
        select(*_COLUMNS)
        .outerjoin(Label, Label.sample_id == Sample.id)
        .where(Sample.project_id == project_id)
    )
    if filters.split is not None:
        query = query.where(Sample.split == filters.split)
    if filters.state is not None:
        query = query.where(Sample.state == filters.state)
    if filters.label is not None:
        query = query.where(Label.value == filters.label)
    if filters.annotator is not None:
        query = query.where(Sample.id.in_(_standing(filters.annotator)))
    if filters.search:
        pattern = "%" + filters.search.replace("\\", "\\\\").replace("%", r"\%")
        pattern = pattern.replace("_", r"\_") + "%"
        query = query.where(
            or_(
                Sample.text.ilike(pattern, escape="\\"),
                Sample.external_id.ilike(pattern, escape="\\"),
            )
        )
    if filters.round is not None or filters.min_score is not None:
        first = _first_rounds(project_id)
        chosen = select(first.c.sample_id).join(Round, Round.id == first.c.round_id)
        if filters.round is not None:
            chosen = chosen.where(Round.number == filters.round)
        if filters.min_score is not None:
            chosen = chosen.join(
                Score,
                and_(Score.round_id == first.c.round_id, Score.sample_id == first.c.sample_id),
            ).where(Score.value >= filters.min_score)
        query = query.where(Sample.id.in_(chosen))
    return query


def browse_all(
    store: Store, project: str, filters: BrowseFilters, *, page: int = 500
) -> Iterator[SampleView]:
    """Every sample of the project that passes ``filters``, in store order, read ``page`` at a
    time (each page in a read of its own)."""
    last = 0
    while True:
        with store.read() as session:
            row = project_row(session, project)
            query = _filtered(row.id, filters).where(Sample.id > last)
            found = _views(session, query.order_by(Sample.id).limit(page), row.id)
        yield from found
        if len(found) < page:
            return
        last = found[-1].id


def browse_samples(
    store: Store,
    project: str,
    filters: BrowseFilters | None = None,
    *,
    split: str | None = None,
    state: str | None = None,
    label: str | None = None,
    annotator: str | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[SampleView], int]:
    """One page of the project's samples that pass every filter given, and how many pass.

    Parameters
    ----------
    filters : BrowseFilters, optional
        Every filter at once (see :class:`BrowseFilters`); otherwise the keywords below.
    split, state : str, optional
        Keep the samples of this split (``pool``, ``eval``, ``gold``) / in this state.
    label : str, optional
        Keep the samples whose aggregated label is this.
    annotator : str, optional
        Keep the samples this annotator answered (answers taken back do not count).
    search : str, optional
        Keep the samples whose text or external id contains this (case-insensitive).
    limit, offset : int
        The page: at most ``limit`` samples in store order, after the first ``offset``.

    Returns
    -------
    (list of SampleView, int)
        The page and the number of samples that pass the filters.
    """
    if filters is None:
        filters = BrowseFilters(split, state, label, annotator, search)
    with store.read() as session:
        row = project_row(session, project)
        query = _filtered(row.id, filters)
        total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        page = _views(session, query.order_by(Sample.id).limit(limit).offset(offset), row.id)
        return page, total


def disagreements(store: Store, project: str, *, limit: int = 100) -> list[SampleView]:
    """Non-gold samples whose standing answers are not all the same, in store order."""
    with store.read() as session:
        row = project_row(session, project)
        split = (
            select(Annotation.sample_id)
            .where(Annotation.project_id == row.id, Annotation.retracted_at.is_(None))
            .group_by(Annotation.sample_id)
            .having(func.count(distinct(Annotation.value)) > 1)
        )
        query = (
            select(*_COLUMNS)
            .outerjoin(Label, Label.sample_id == Sample.id)
            .where(Sample.id.in_(split), Sample.split != "gold")
            .order_by(Sample.id)
            .limit(limit)
        )
        return _views(session, query)


def annotated_class_balance(store: Store, project: str) -> dict[str, int]:
    """Labels given by annotators, per class of the label space (imported labels left out)."""
    with store.read() as session:
        row = project_row(session, project)
        counts = dict.fromkeys(row.label_space, 0)
        found = session.execute(
            select(Label.value, func.count())
            .where(Label.project_id == row.id, Label.n_annotations > 0)
            .group_by(Label.value)
        )
        for value, n in found:
            counts[value] = int(n)
        return counts


def sample_view(store: Store, project: str, sample_id: int) -> SampleView:
    """One sample of the project with its label and answers; NotFoundError when not there."""
    with store.read() as session:
        row = project_row(session, project)
        query = (
            select(*_COLUMNS)
            .outerjoin(Label, Label.sample_id == Sample.id)
            .where(Sample.project_id == row.id, Sample.id == sample_id)
        )
        found = _views(session, query, row.id)
        if not found:
            raise NotFoundError(f"no sample {sample_id} in project {project!r}")
        return found[0]
