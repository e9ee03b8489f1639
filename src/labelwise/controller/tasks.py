"""The annotator's operations: next task, answer (and next), progress; every rule they obey.

The API, the CLI and library callers share these, so a rule holds whoever asks:

- **stop**: once the project's stop state says stop (:func:`~labelwise.controller.stop_state`),
  no task is leased; answers to tasks already held are still taken.
- **budget**: the project's ``budget`` (annotations) holds in the store's lease transaction
  (:func:`labelwise.store.lease_next_task`), for any caller: answers plus live leases never
  pass it, so the answers never do.
- **overlap**: a sample gets ``overlap`` tasks when queued and its label once that many
  answered (:mod:`labelwise.store.queue`); with **relabeling** on, a label less certain than
  ``relabel_below`` gets one more annotator, up to ``max_annotators``
  (:mod:`labelwise.store.relabel`).
- **gold** and **lease length**: the project's loop settings (``gold_fraction``,
  ``lease_seconds``, :func:`~labelwise.controller.loop_settings`) are applied here, so a caller
  cannot forget them.

An answer with its next task is one transaction (the answer and the lease are stored together
or not at all); :func:`answer_and_next` adds the annotator's progress, what the annotation page
shows after every answer, so that the page needs one request per label.

Examples
--------
>>> found = next_task(store, "reviews", "ada")  # doctest: +SKIP
>>> done = answer_and_next(store, found.lease.task_id, "ada", "pos")  # doctest: +SKIP
>>> done.next.lease, done.progress.my_labels  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from labelwise.controller.loop import stop_state
from labelwise.controller.settings import loop_settings
from labelwise.controller.stopping import StopDecision
from labelwise.store import AnnotationRecord, ProjectInfo, Store, TaskLease
from labelwise.store.leasing import budget_left, lease_next_task
from labelwise.store.progress import AnnotatorProgress, annotator_progress
from labelwise.store.queue import submit_and_lease_next, submit_annotation
from labelwise.store.tasks import project_info, task_view

__all__ = [
    "Answered",
    "NextTask",
    "answer",
    "answer_and_next",
    "next_task",
    "progress",
]

#: Why no task came, in the words the annotation page shows.
EMPTY_QUEUE = "no task in the queue right now"
BUDGET_SPENT = "the budget is spent"


@dataclass(frozen=True)
class NextTask:
    """The task leased next, or None and why (stopped, budget spent, queue empty)."""

    lease: TaskLease | None
    reason: str | None = None


@dataclass(frozen=True)
class Answered:
    """An answer as stored, the task leased after it and the annotator's progress after it
    (each None when not asked for)."""

    annotation: AnnotationRecord
    next: NextTask | None = None
    progress: AnnotatorProgress | None = None


def _stop(store: Store, project: str, stop: StopDecision | None) -> StopDecision:
    return stop_state(store, project) if stop is None else stop


def _stopped(stop: StopDecision) -> NextTask:
    return NextTask(None, f"the project stopped: {stop.reason}")


def _none_left(store: Store, project: str) -> NextTask:
    return NextTask(None, BUDGET_SPENT if budget_left(store, project) == 0 else EMPTY_QUEUE)


def next_task(
    store: Store,
    project: str,
    annotator: str,
    *,
    info: ProjectInfo | None = None,
    stop: StopDecision | None = None,
) -> NextTask:
    """Lease ``annotator``'s next task in ``project`` under the project's rules.

    Parameters
    ----------
    info : the project as already read (saves a read); read here when omitted
    stop : the project's stop state as the caller keeps it (the server caches it between
        rounds); read from the store when omitted
    """
    decision = _stop(store, project, stop)
    if decision.stop:
        return _stopped(decision)
    settings = loop_settings((info or project_info(store, project)).settings)
    lease = lease_next_task(
        store,
        project,
        annotator,
        settings.lease_seconds,
        gold_fraction=settings.gold_fraction,
    )
    return _none_left(store, project) if lease is None else NextTask(lease)


#: An answer as a caller gives it: a label, a number (regression) or labels (multi-label).
#: A label, a number, a list of labels, or a spans project's ``[start, end, label]`` list.
Answer = str | float | Sequence[str] | Sequence[Sequence[int | str]]


def _text(value: Answer) -> str:
    """The answer as the store takes it: a label or text as is, a number or a list (of
    labels or of spans) as JSON (the store checks it against the project and keeps its
    canonical text)."""
    if isinstance(value, str):
        return value
    return json.dumps(value if isinstance(value, float | int) else list(value))


def answer(
    store: Store,
    task_id: int,
    annotator: str,
    value: Answer,
    seconds_spent: float | None = None,
) -> Answered:
    """Store ``annotator``'s answer to the task they hold (the same answer again: no change).

    ``value`` is a label, a number (a number project) or a list of labels (a multi-label
    project); an answer the project does not take raises
    :class:`~labelwise.store.AnswerError` naming the problem.
    """
    return Answered(submit_annotation(store, task_id, annotator, _text(value), seconds_spent))


def answer_and_next(
    store: Store,
    task_id: int,
    annotator: str,
    value: Answer,
    seconds_spent: float | None = None,
    *,
    info: ProjectInfo | None = None,
    stop: StopDecision | None = None,
    with_progress: bool = False,
) -> Answered:
    """The answer, the next task (one transaction) and, with ``with_progress``, the
    annotator's progress after both.

    In a stopped project the answer is stored and no task follows.

    Parameters
    ----------
    info : the task's project as already read (saves a read); read here when omitted
    stop : the project's stop state as the caller keeps it; read from the store when omitted
    """
    if info is None:
        info = task_view(store, task_id).project_info
        assert info is not None
    project = info.name
    value = _text(value)
    decision = _stop(store, project, stop)
    if decision.stop:
        record = submit_annotation(store, task_id, annotator, value, seconds_spent)
        following = _stopped(decision)
    else:
        settings = loop_settings(info.settings)
        record, lease = submit_and_lease_next(
            store,
            task_id,
            annotator,
            value,
            seconds_spent,
            lease_seconds=settings.lease_seconds,
            gold_fraction=settings.gold_fraction,
        )
        following = _none_left(store, project) if lease is None else NextTask(lease)
    shown = progress(store, project, annotator) if with_progress else None
    return Answered(record, following, shown)


def progress(store: Store, project: str, annotator: str) -> AnnotatorProgress:
    """``annotator``'s progress in ``project``: answers, labels, budget, last round."""
    return annotator_progress(store, project, annotator)
