"""One annotator's progress in a project, in one read: what the annotation page shows.

Answers given (gold included), pool samples labeled, the budget and what it has used, and the
last round's number and eval accuracy: three statements built once
(:mod:`labelwise.store._statement`), on one connection, so the page's answer can carry its
progress without the four store reads of :func:`labelwise.store.status`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from labelwise.store import _hot
from labelwise.store._statement import Prepared
from labelwise.store.engine import Store
from labelwise.store.leasing import annotator_id_of, budget_of
from labelwise.store.projects import get_project
from labelwise.store.schema import Annotation, Round, SampleTally

__all__ = ["AnnotatorProgress", "annotator_progress"]


@dataclass(frozen=True)
class AnnotatorProgress:
    """What one annotator sees of a project's progress.

    ``budget_used`` counts the project's standing answers (as :func:`labelwise.store.status`);
    ``round`` is 0 and ``eval_accuracy`` None before the first round.
    """

    my_labels: int
    labeled: int
    budget: int | None
    budget_used: int
    round: int
    eval_accuracy: float | None

    @property
    def budget_left(self) -> int | None:
        """Answers the budget still allows, None without a budget."""
        return None if self.budget is None else max(0, self.budget - self.budget_used)


_COUNTS = Prepared(
    select(
        select(func.count())
        .select_from(Annotation)
        .where(
            Annotation.project_id == bindparam("pid"),
            Annotation.annotator_id == bindparam("who"),
            Annotation.retracted_at.is_(None),
        )
        .scalar_subquery(),
        select(SampleTally.n)
        .where(
            SampleTally.project_id == bindparam("pid"),
            SampleTally.split == "pool",
            SampleTally.state == "labeled",
        )
        .scalar_subquery(),
    )
)
_ANSWERS = Prepared(
    select(func.count())
    .select_from(Annotation)
    .where(Annotation.project_id == bindparam("pid"), Annotation.retracted_at.is_(None))
)
_LAST_ROUND = Prepared(
    select(Round.number, Round.metrics)
    .where(Round.project_id == bindparam("pid"))
    .order_by(Round.number.desc())
    .limit(1)
)


def annotator_progress(store: Store, project: str, annotator: str) -> AnnotatorProgress:
    """``annotator``'s progress in ``project`` (NotFoundError for an unknown one of either)."""
    with store.driver_read() as driver:
        found = driver.first(_hot.PROJECT, name=project)
        if found is None:
            get_project(store, project)  # raises, naming the projects there are
        assert found is not None
        pid, settings = int(found[0]), found[1]
        who = annotator_id_of(driver, annotator)
        counts = driver.first(_COUNTS, pid=pid, who=who)
        assert counts is not None
        budget = budget_of(settings)
        used = 0 if budget is None else int(driver.scalar(_ANSWERS, pid=pid) or 0)
        last = driver.first(_LAST_ROUND, pid=pid)
    number, accuracy = (0, None) if last is None else (int(last[0]), last[1].get("eval_accuracy"))
    return AnnotatorProgress(
        my_labels=int(counts[0] or 0),
        labeled=int(counts[1] or 0),
        budget=budget,
        budget_used=used,
        round=number,
        eval_accuracy=None if accuracy is None else float(accuracy),
    )
