"""``status``: counts per state, split, class and annotator, rounds and budget.

Sample counts come from ``sample_tally`` (a handful of rows whatever the pool size); class
counts from the ``label`` index and annotator counts from the ``annotation`` index.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select

from labelwise.store.engine import Store
from labelwise.store.projects import project_row
from labelwise.store.schema import (
    SAMPLE_STATES,
    SPLITS,
    Annotation,
    Annotator,
    DatasetVersion,
    Label,
    Round,
    SampleTally,
)

__all__ = ["StoreStatus", "status"]


@dataclass(frozen=True)
class StoreStatus:
    """A project's numbers; :meth:`to_dict` gives the ``--json`` object."""

    project: str
    samples: int
    by_state: dict[str, int]
    by_split: dict[str, int]
    by_class: dict[str, int]
    by_annotator: dict[str, int]
    annotations: int
    rounds: int
    versions: int
    budget: int | None
    budget_used: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(store: Store, project: str) -> StoreStatus:
    """Counts of the project's samples, labels, annotations, rounds and budget."""
    with store.read() as session:
        row = project_row(session, project)
        by_state = dict.fromkeys(SAMPLE_STATES, 0)
        by_split = dict.fromkeys(SPLITS, 0)
        for split, state, n in session.execute(
            select(SampleTally.split, SampleTally.state, SampleTally.n).where(
                SampleTally.project_id == row.id
            )
        ):
            by_state[state] += n
            by_split[split] += n
        by_class = dict.fromkeys(row.label_space, 0)
        for value, n in session.execute(
            select(Label.value, func.count())
            .where(Label.project_id == row.id)
            .group_by(Label.value)
        ):
            by_class[value] = n
        by_annotator = {
            name: n
            for name, n in session.execute(
                select(Annotator.name, func.count())
                .join(Annotation, Annotation.annotator_id == Annotator.id)
                .where(Annotation.project_id == row.id)
                .group_by(Annotator.name)
                .order_by(Annotator.name)
            )
        }
        rounds = session.scalar(
            select(func.count()).select_from(Round).where(Round.project_id == row.id)
        )
        versions = session.scalar(
            select(func.count())
            .select_from(DatasetVersion)
            .where(DatasetVersion.project_id == row.id)
        )
        annotations = sum(by_annotator.values())
        budget = row.settings.get("budget")
        return StoreStatus(
            project=row.name,
            samples=sum(by_state.values()),
            by_state=by_state,
            by_split=by_split,
            by_class=by_class,
            by_annotator=by_annotator,
            annotations=annotations,
            rounds=rounds or 0,
            versions=versions or 0,
            budget=None if budget is None else int(budget),
            budget_used=annotations,
        )
