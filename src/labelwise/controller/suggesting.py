"""The model's suggestion as an annotator is served it: with the task handed out, or on request.

Where the project shows suggestions (its ``show_suggestion`` setting, on by default), the task
handed out by "next task" or "answer and next" comes with the model's suggestion for it
(:func:`suggestion_with_task`), so that the annotation page needs one request per label; the
page asks for it again only on a key press or a new model (:func:`suggestion_on_request`). A
suggestion served to the annotator who holds the task is kept
(:func:`labelwise.store.suggestions.record_suggestion`) by the request that serves it, so that
suggestion acceptance (:mod:`labelwise.quality.acceptance`) counts what they saw; reading the
model's guess (:meth:`Controller.guess`) writes nothing.
"""

from __future__ import annotations

from labelwise.controller.guessing import Guess
from labelwise.controller.loop import Controller
from labelwise.store import ProjectInfo, SampleRecord, TaskLease
from labelwise.store.suggestions import record_suggestion
from labelwise.store.tasks import TaskView

__all__ = [
    "serve_suggestion",
    "shows_suggestions",
    "suggestion_on_request",
    "suggestion_with_task",
]


def shows_suggestions(info: ProjectInfo) -> bool:
    """Whether the project's annotators are shown the model's suggestion with each task."""
    return bool(info.settings.get("show_suggestion", True))


def serve_suggestion(
    controller: Controller, task_id: int, annotator: str, sample: SampleRecord
) -> Guess | None:
    """The latest model's guess for ``sample``, kept as shown to ``annotator`` on the task
    (asking again for the same suggestion keeps nothing more); None before any model."""
    found = controller.guess(sample)
    if found is not None:
        record_suggestion(
            controller.store, task_id, annotator, found.label, found.probability, found.round
        )
    return found


def suggestion_with_task(
    controller: Controller, info: ProjectInfo, lease: TaskLease | None
) -> Guess | None:
    """The suggestion to hand out with ``lease`` (served and kept), or None: no task, a
    project that hides suggestions, or no model yet."""
    if lease is None or not shows_suggestions(info):
        return None
    return serve_suggestion(controller, lease.task_id, lease.annotator, _leased_sample(lease))


def suggestion_on_request(controller: Controller, view: TaskView, annotator: str) -> Guess | None:
    """The model's guess for the task in ``view`` as ``annotator`` asks for it: served and kept
    when they hold the task, only read for anyone else (an admin looking at it)."""
    if view.annotator == annotator and view.state == "leased":
        return serve_suggestion(controller, view.task_id, annotator, view.sample)
    return controller.guess(view.sample)


def _leased_sample(lease: TaskLease) -> SampleRecord:
    """The leased sample as the model reads it (its id and content; a guess reads neither its
    split nor its state, so a leased gold sample is guessed like any other)."""
    return SampleRecord(
        id=lease.sample_id,
        external_id=lease.external_id,
        text=lease.text,
        uri=lease.uri,
        split="pool",
        state="in_progress",
    )
