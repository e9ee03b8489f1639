"""Sample counts per (split, state), kept in ``sample_tally`` by the functions that move samples.

Status reads these rows instead of counting a pool of millions. Every change of a sample's
state goes through :func:`move` (or :func:`recount` after a bulk rewrite) in the same
transaction, so the counts are never out of step with the samples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from labelwise.store.schema import SAMPLE_STATES, SPLITS, Sample, SampleTally


def create(session: Session, project_id: int) -> None:
    """Add the zero rows of a new project."""
    session.add_all(
        SampleTally(project_id=project_id, split=split, state=state, n=0)
        for split in SPLITS
        for state in SAMPLE_STATES
    )


def add(session: Session, project_id: int, deltas: Iterable[tuple[tuple[str, str], int]]) -> None:
    """Add ``delta`` to the count of each ``(split, state)``, in a fixed order (no deadlocks)."""
    total: Counter[tuple[str, str]] = Counter()
    for key, delta in deltas:
        total[key] += delta
    for (split, state), delta in sorted(total.items()):
        if delta:
            session.execute(
                update(SampleTally)
                .where(
                    SampleTally.project_id == project_id,
                    SampleTally.split == split,
                    SampleTally.state == state,
                )
                .values(n=SampleTally.n + delta)
            )


def move(session: Session, project_id: int, split: str, old: str, new: str, n: int = 1) -> None:
    """Record that ``n`` samples of ``split`` went from state ``old`` to state ``new``."""
    if old != new and n:
        add(session, project_id, [((split, old), -n), ((split, new), n)])


def recount(session: Session, project_id: int) -> None:
    """Count the project's samples afresh (after a rewrite of many states at once)."""
    counts = {
        (split, state): n
        for split, state, n in session.execute(
            select(Sample.split, Sample.state, func.count())
            .where(Sample.project_id == project_id)
            .group_by(Sample.split, Sample.state)
        )
    }
    for split in SPLITS:
        for state in SAMPLE_STATES:
            session.execute(
                update(SampleTally)
                .where(
                    SampleTally.project_id == project_id,
                    SampleTally.split == split,
                    SampleTally.state == state,
                )
                .values(n=counts.get((split, state), 0))
            )
