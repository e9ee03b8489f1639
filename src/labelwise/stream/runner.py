"""A stream run against the store: asked items go to the annotators' queue, answers come back.

For each arriving item :class:`StreamRun` asks its :class:`~labelwise.stream.selector.
StreamSelector`; an asked item is added to the store project as a pool sample with the item's
text or image (:func:`labelwise.store.add_samples`, one transaction that returns its id) and
enqueued under that id with its uncertainty as priority, so annotators working the queue
(``labelwise serve``, or any client of :func:`labelwise.store.lease_next_task`) get it. An item
whose id the project already holds is refused (:class:`~labelwise.errors.StoreError`).
Every ``sync_every`` items, and at the end, the labels annotators gave to asked items are read
back (:func:`labelwise.store.labeled_set`) and taught to the selector, which refits its model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from labelwise.errors import InvalidInputError
from labelwise.store import (
    NotFoundError,
    Store,
    add_samples,
    create_project,
    enqueue,
    get_project,
    labeled_set,
)
from labelwise.store.schema import TaskType
from labelwise.stream.items import StreamItem
from labelwise.stream.selector import Decision, StreamSelector


@dataclass
class StreamReport:
    """Counts of a stream run so far."""

    seen: int = 0
    asked: int = 0
    skipped_for_time: int = 0
    answers: int = 0
    refits: int = 0
    asked_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "asked": self.asked,
            "skipped_for_time": self.skipped_for_time,
            "answers": self.answers,
            "refits": self.refits,
        }


class StreamRun:
    """Run a stream through a selector into a store project.

    Parameters
    ----------
    selector : decides per item and learns from answers.
    store, project : where asked items are queued; the project is created with the
        selector's classes when it does not exist (a text project, or an image project when
        the items carry images).
    sync_every : read answers back after this many items.
    """

    def __init__(
        self, selector: StreamSelector, store: Store, project: str, *, sync_every: int = 20
    ) -> None:
        if isinstance(sync_every, bool) or not isinstance(sync_every, int) or sync_every < 1:
            raise InvalidInputError(f"sync_every must be a positive int, got {sync_every!r}")
        self.selector = selector
        self.store = store
        self.project = project
        self.sync_every = sync_every
        self.report = StreamReport()
        self._waiting: dict[str, StreamItem] = {}
        self._checked_project = False

    def run(self, items: Iterable[StreamItem], max_items: int | None = None) -> StreamReport:
        """Consume ``items`` (at most ``max_items``) and return the report."""
        for item in items:
            if max_items is not None and self.report.seen >= max_items:
                break
            self.step(item)
        self.sync()
        return self.report

    def step(self, item: StreamItem) -> Decision:
        """One item: decide, queue it when asked, read answers back every ``sync_every``."""
        decision = self.selector.offer(item)
        self.report.seen += 1
        if decision.reason == "time budget":
            self.report.skipped_for_time += 1
        if decision.asked:
            self._queue(item, decision.uncertainty)
        if self.report.seen % self.sync_every == 0:
            self.sync()
        return decision

    def sync(self) -> int:
        """Teach the selector the answers given since the last sync; returns how many."""
        if not self._waiting:
            return 0
        taught = 0
        for record, label in labeled_set(self.store, self.project):
            item = self._waiting.pop(record.external_id, None)
            if item is None:
                continue
            if self.selector.teach(item, label):
                self.report.refits += 1
            taught += 1
        self.report.answers += taught
        return taught

    def _ensure_project(self, item: StreamItem) -> None:
        if self._checked_project:
            return
        try:
            found = get_project(self.store, self.project)
        except NotFoundError:
            task_type: TaskType = "image_classification" if item.image else "text_classification"
            create_project(self.store, self.project, self.selector.classes, task_type)
        else:
            if list(found.label_space) != list(self.selector.classes):
                raise InvalidInputError(
                    f"project {self.project!r} has labels {list(found.label_space)}, the stream "
                    f"{self.selector.classes}: use the same label space"
                )
        self._checked_project = True

    def _queue(self, item: StreamItem, priority: float) -> None:
        if not item.viewable:
            raise InvalidInputError(
                f"item {item.id!r} was asked but has neither 'text' nor 'image': annotators "
                "need something to look at"
            )
        self._ensure_project(item)
        row: dict[str, Any] = {"id": item.id}
        if item.text is not None:
            row["text"] = item.text
        if item.image is not None:
            row["image"] = item.image
        sample_ids = add_samples(self.store, self.project, [row], actor="stream")
        enqueue(self.store, self.project, sample_ids, [priority], actor="stream")
        self.report.asked += 1
        self.report.asked_ids.append(item.id)
        self._waiting[item.id] = item
