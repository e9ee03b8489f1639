"""Disagreement-driven relabeling: a sample whose aggregated label is uncertain gets one more
annotator.

Two project settings, off by default:

- ``relabel_below`` (None: off; a number in (0, 1]): once a sample's answers are in, its
  label's agreement is compared with it, and below it the sample gets one more task, for an
  annotator who has not had the sample (a lease never gives an annotator a sample twice:
  :data:`labelwise.store._hot.PICK`);
- ``max_annotators`` (None: ``overlap + 1``): the most answers relabeling brings a sample to.

The agreement is the one stored with the label (:func:`~labelwise.store.answer_aggregation.
aggregate_answers`): the share of annotators who gave the majority label (two answers that
differ: 0.5; three of which two agree: 0.67), the mean pairwise Jaccard similarity of label
sets, the mean pairwise exact F1 of spans. A number project's median has no agreement, so the
setting is refused there. Dawid-Skene's posterior is not computed per answer (it needs every
answer of the project); a label re-aggregated by it keeps its posterior as its agreement, and
the next answer to the sample is judged as above.

The decision is taken in one place: where an answer completes a sample's label
(:mod:`labelwise.store.queue`), in the answer's transaction. The sample keeps the label its
answers give meanwhile (the model trains on it, the status counts it labeled); the extra answer
re-aggregates it and is judged again, up to ``max_annotators``. A label a reviewer set is never
relabeled. The task is added by one ``INSERT ... SELECT`` that copies the answered task's
score and round and adds nothing while another task of the sample is open or leased, so one
extra slot at most waits per sample. Each relabeling is an audit row (action ``relabel``),
which :func:`relabel_count` counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, literal, select
from sqlalchemy.orm import aliased

from labelwise.store import _hot
from labelwise.store._statement import Driver, Prepared
from labelwise.store.engine import Store
from labelwise.store.errors import StoreError
from labelwise.store.schema import Audit, Project, Task

__all__ = [
    "RELABEL_ACTION",
    "RELABEL_KEYS",
    "RelabelRule",
    "ask_another",
    "check_relabel",
    "relabel_count",
    "relabel_rule",
]

#: The project settings of relabeling.
RELABEL_KEYS: tuple[str, str] = ("relabel_below", "max_annotators")
#: The audit action of a sample given one more annotator.
RELABEL_ACTION = "relabel"
#: The answer kinds whose aggregate has an agreement to judge (not ``number``).
_JUDGED_KINDS = ("label", "labels", "spans")


@dataclass(frozen=True)
class RelabelRule:
    """A project's relabeling: one more annotator while the label's agreement is under
    ``below`` and the sample has fewer than ``max_annotators`` answers."""

    below: float
    max_annotators: int

    def wants_another(self, agreement: float | None, answers: int) -> bool:
        """Whether a sample with ``answers`` standing answers and this agreement needs one
        more (an aggregate without an agreement never does)."""
        return agreement is not None and agreement < self.below and answers < self.max_annotators


def check_relabel(settings: Mapping[str, Any], answer_kind: str | None = None) -> None:
    """Refuse relabel settings out of range, naming the setting.

    ``relabel_below``: None or a number in (0, 1]; ``max_annotators``: None or an integer in
    [2, 100], above the project's ``overlap`` while relabeling is on; relabeling is refused for
    a number project (``answer_kind`` ``"number"``), whose aggregate has no agreement.
    """
    below = settings.get("relabel_below")
    if below is not None:
        number = isinstance(below, int | float) and not isinstance(below, bool)
        if not (number and math.isfinite(below) and 0.0 < below <= 1.0):
            raise StoreError(f"relabel_below must be a number in (0, 1] or null, got {below!r}")
    most = settings.get("max_annotators")
    if most is not None and (
        not isinstance(most, int) or isinstance(most, bool) or not 2 <= most <= 100
    ):
        raise StoreError(f"max_annotators must be an integer from 2 to 100 or null, got {most!r}")
    if below is None:
        return
    if answer_kind is not None and answer_kind not in _JUDGED_KINDS:
        raise StoreError(
            f"relabel_below applies to label, labels and spans projects; a {answer_kind!r}"
            " project's aggregate has no agreement to judge"
        )
    overlap = int(settings.get("overlap", 1))
    if most is not None and most <= overlap:
        raise StoreError(
            f"max_annotators ({most}) must exceed overlap ({overlap}) for relabeling to add"
            " an annotator: raise it, or leave it empty (overlap + 1)"
        )


def relabel_rule(settings: Mapping[str, Any] | None) -> RelabelRule | None:
    """The project's relabeling, None when it is off (the settings were checked when stored)."""
    below = (settings or {}).get("relabel_below")
    if below is None:
        return None
    most = settings.get("max_annotators")  # type: ignore[union-attr]
    overlap = int(settings.get("overlap", 1))  # type: ignore[union-attr]
    return RelabelRule(float(below), overlap + 1 if most is None else int(most))


_waiting = aliased(Task)
#: One more open task of the answered task's sample, with its score and round, unless one of
#: the sample's tasks is still open or leased.
ADD_RELABEL_TASK = Prepared(
    insert(Task)
    .from_select(
        ["project_id", "sample_id", "round_id", "priority", "state", "created_at"],
        select(
            Task.project_id,
            Task.sample_id,
            Task.round_id,
            Task.priority,
            literal("open"),
            bindparam("now", type_=Task.created_at.type),
        )
        .where(Task.id == bindparam("tid"))
        .where(
            ~exists().where(and_(_waiting.sample_id == Task.sample_id, _waiting.state != "done"))
        ),
    )
    .returning(Task.id)
)


def ask_another(
    driver: Driver,
    pending: _hot.Pending,
    task_id: int,
    sample_id: int,
    agreement: float | None,
    answers: int,
    rule: RelabelRule | None,
    now: datetime,
) -> int | None:
    """Give the sample of the just answered task ``task_id`` one more open task when ``rule``
    says its label is uncertain; the new task's id, or None when none was added.

    Runs in the answer's transaction, after the label was written; the audit row goes to
    ``pending``.
    """
    if rule is None or not rule.wants_another(agreement, answers):
        return None
    standing = driver.first(_hot.LABEL_STANDING, sid=sample_id)
    if standing is not None and standing[0] == _hot.REVIEW_METHOD:
        return None  # a reviewer settled it
    added = driver.scalar(ADD_RELABEL_TASK, tid=task_id, now=now)
    if added is None:
        return None
    pending.record(
        "labelwise",
        RELABEL_ACTION,
        "sample",
        sample_id,
        task_id=int(added),
        agreement=agreement,
        answers=answers,
    )
    return int(added)


def relabel_count(store: Store, project: str) -> int:
    """How many times a sample of ``project`` was given one more annotator by relabeling."""
    with store.read() as session:
        found = session.scalar(
            select(func.count())
            .select_from(Audit)
            .join(Project, Project.id == Audit.project_id)
            .where(Project.name == project, Audit.action == RELABEL_ACTION)
        )
    return int(found or 0)
