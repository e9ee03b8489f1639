"""What the backend missed: Label Studio's annotations compared with the backend's revisions.

Label Studio is the source of truth. For each task it lists, the label that counts is the first
choice of its newest annotation (by ``updated_at``, then id) that was not cancelled and chose
something (a NER project: the spans of its newest annotation not cancelled, none being an
answer too; :mod:`~labelwise.server.labelstudio.ner`); a task without one counts as unlabeled.
The backend's view of a task is its newest revision (:mod:`labelwise.server.labelstudio.
state`). :func:`missed_events` returns the revisions that make the backend agree: a label where
Label Studio has a new or another one, a deletion where Label Studio has none (its annotations
deleted or cancelled, or the task itself deleted). Applied, a second comparison finds nothing:
the resync is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labelwise.errors import InvalidInputError
from labelwise.server.labelstudio.label_config import LabelConfig
from labelwise.server.labelstudio.payloads import annotation_label
from labelwise.server.labelstudio.state import Revision

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedTask:
    """One task as Label Studio lists it: its value and the label that counts (or None)."""

    task: int
    value: str
    annotation: int | None
    label: str | None


@dataclass(frozen=True)
class Missed:
    """A revision to add: ``label`` None is a deletion."""

    task: int
    annotation: int
    value: str | None
    label: str | None


def listed_task(task: Mapping[str, Any], config: LabelConfig) -> ListedTask | None:
    """Read one listed task; None (and a log line) for a task without the config's value."""
    task_id = task.get("id")
    data = task.get("data")
    value = data.get(config.data_key) if isinstance(data, Mapping) else None
    if isinstance(task_id, bool) or not isinstance(task_id, int) or not isinstance(value, str):
        logger.info("skipping task %r: no %r in its data", task_id, config.data_key)
        return None
    best: tuple[str, int, str] | None = None
    for annotation in task.get("annotations") or []:
        if not isinstance(annotation, Mapping) or annotation.get("was_cancelled"):
            continue
        annotation_id = annotation.get("id")
        if isinstance(annotation_id, bool) or not isinstance(annotation_id, int):
            continue
        try:
            label = annotation_label(annotation, config, value)
        except InvalidInputError as exc:
            logger.info("skipping annotation %d of task %d: %s", annotation_id, task_id, exc)
            continue
        if label is None:
            continue
        when = str(annotation.get("updated_at") or annotation.get("created_at") or "")
        if best is None or (when, annotation_id) > best[:2]:
            best = (when, annotation_id, label)
    if best is None:
        return ListedTask(task_id, value, None, None)
    return ListedTask(task_id, value, best[1], best[2])


def newest_revisions(revisions: Iterable[Revision]) -> dict[int, Revision]:
    """Task -> its newest revision."""
    newest: dict[int, Revision] = {}
    for revision in revisions:
        held = newest.get(revision.task)
        if held is None or revision.number > held.number:
            newest[revision.task] = revision
    return newest


def missed_events(listed: Sequence[ListedTask], revisions: Iterable[Revision]) -> list[Missed]:
    """The revisions that bring the backend to what Label Studio lists (see the module)."""
    newest = newest_revisions(revisions)
    missed: list[Missed] = []
    for task in listed:
        held = newest.get(task.task)
        held_label = held.label if held is not None else None
        if task.label == held_label:
            continue
        if task.label is not None and task.annotation is not None:
            missed.append(Missed(task.task, task.annotation, task.value, task.label))
        elif held is not None:
            missed.append(Missed(task.task, held.annotation, task.value, None))
    present = {task.task for task in listed}
    for task_id, held in sorted(newest.items()):
        if task_id not in present and held.label is not None:  # the task was deleted
            missed.append(Missed(task_id, held.annotation, None, None))
    return missed
