"""Reading samples back: the pool for scoring, the labeled set for training."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from labelwise.store.engine import Store
from labelwise.store.projects import project_row
from labelwise.store.schema import Label, Sample, SampleState, Split

__all__ = ["SampleRecord", "labeled_set", "list_samples"]


@dataclass(frozen=True)
class SampleRecord:
    id: int
    external_id: str
    text: str | None
    uri: str | None
    split: str
    state: str


def list_samples(
    store: Store,
    project: str,
    *,
    split: Split | None = None,
    state: SampleState | None = None,
) -> list[SampleRecord]:
    """The project's samples in store order, optionally of one split and one state."""
    with store.read() as session:
        row = project_row(session, project)
        query = select(
            Sample.id, Sample.external_id, Sample.text, Sample.uri, Sample.split, Sample.state
        ).where(Sample.project_id == row.id)
        if split is not None:
            query = query.where(Sample.split == split)
        if state is not None:
            query = query.where(Sample.state == state)
        return [SampleRecord(*values) for values in session.execute(query.order_by(Sample.id))]


def labeled_set(
    store: Store, project: str, *, split: Split = "pool"
) -> list[tuple[SampleRecord, str]]:
    """The labeled samples of one split (the training set by default) with their labels."""
    with store.read() as session:
        row = project_row(session, project)
        query = (
            select(
                Sample.id,
                Sample.external_id,
                Sample.text,
                Sample.uri,
                Sample.split,
                Sample.state,
                Label.value,
            )
            .join(Label, Label.sample_id == Sample.id)
            .where(Sample.project_id == row.id, Sample.split == split)
            .order_by(Sample.id)
        )
        return [(SampleRecord(*values[:6]), values[6]) for values in session.execute(query)]
