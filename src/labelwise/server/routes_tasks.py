"""The annotator's API: next task, answer, lease heartbeat, skip, undo, guess, progress.

A task handed out (next task, answer and next, undo) carries the model's suggestion for it
where the project shows suggestions, kept as served by the request that serves it
(:mod:`labelwise.controller.suggesting`); ``GET .../guess`` only reads the model, ``POST
.../guess`` (the page's "show suggestion" key) serves and keeps it.

Routes translate HTTP only: who may touch which task or project (404), an answer the project
does not take (422: a label outside the label space, a number out of bounds or off the step, an
unknown label in a set, an answer of the wrong kind). Every rule of leasing and answering
(stop, budget, overlap, gold, lease length) is the controller's
(:mod:`labelwise.controller.tasks`), shared with the CLI and library callers.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import FileResponse, Response

from labelwise.controller import Guess, StopDecision, loop_settings
from labelwise.controller import tasks as annotating
from labelwise.controller.suggesting import suggestion_on_request, suggestion_with_task
from labelwise.server.deps import RuntimeDep, StoreDep, UserDep, member_project
from labelwise.server.runtime import Runtime
from labelwise.server.schemas import (
    ERROR_RESPONSES,
    AnnotationCreate,
    AnnotationPublic,
    AnswerPublic,
    AnswerRulesPublic,
    GuessPublic,
    LeasePublic,
    MePublic,
    NextTaskPublic,
    ProgressPublic,
    ProjectPublic,
    SpanSuggestionPublic,
    TaskPublic,
)
from labelwise.store import (
    AnnotatorInfo,
    AnswerError,
    AnswerSpec,
    ProjectInfo,
    Store,
    TaskLease,
    encode_answer,
    list_projects,
    renew_lease,
)
from labelwise.store.corrections import skip_task, undo_last
from labelwise.store.members import is_member
from labelwise.store.progress import AnnotatorProgress
from labelwise.store.tasks import TaskView, task_view

router = APIRouter(prefix="/api", tags=["annotate"], responses=ERROR_RESPONSES)


class AnnotationWithNext(AnnotationPublic):
    """An answer as stored and, when asked for with ``?next=true``, the next task."""

    next: NextTaskPublic | None = None


TaskId = Annotated[int, Path(ge=1, le=2**62, description="a task id")]
ProjectName = Annotated[str, Path(min_length=1, max_length=200)]


def _task_public(project: str, lease: TaskLease, suggestion: Guess | None = None) -> TaskPublic:
    return TaskPublic(
        task_id=lease.task_id,
        project=project,
        external_id=lease.external_id,
        text=lease.text,
        image_url=None if lease.uri is None else f"/api/tasks/{lease.task_id}/image",
        expires_at=lease.expires_at,
        suggestion=None if suggestion is None else _guess_public(suggestion),
    )


def _guess_public(found: Guess | None) -> GuessPublic:
    if found is None:
        return GuessPublic(label=None, probability=None, round=None)
    spans = (
        None
        if found.spans is None
        else [SpanSuggestionPublic(start=a, end=b, label=c, score=p) for a, b, c, p in found.spans]
    )
    return GuessPublic(
        label=found.label, probability=found.probability, round=found.round, spans=spans
    )


def _own_task(store: Store, user: AnnotatorInfo, task_id: int) -> TaskView:
    """The task, when the caller holds it (or answered it), or is an admin; 404 otherwise."""
    view = task_view(store, task_id)
    if user.role != "admin" and view.annotator != user.name:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id} for you")
    return view


@router.get("/me", response_model=MePublic)
def me(user: UserDep, store: StoreDep) -> MePublic:
    """Who the token belongs to and the projects they work on."""
    projects = [
        p.name for p in list_projects(store) if user.role == "admin" or is_member(p, user.name)
    ]
    return MePublic(name=user.name, role=user.role, projects=projects)


@router.get("/projects", response_model=list[ProjectPublic])
def projects(user: UserDep, store: StoreDep) -> list[ProjectPublic]:
    """The projects the caller may work on."""
    return [
        _project_public(p)
        for p in list_projects(store)
        if user.role == "admin" or is_member(p, user.name)
    ]


def _project_public(p: ProjectInfo) -> ProjectPublic:
    rules = p.settings.get("answer") if p.answer_kind == "number" else None
    return ProjectPublic(
        name=p.name,
        task_type=p.task_type,
        labels=list(p.label_space),
        overlap=p.overlap,
        answer_kind=p.answer_kind,  # type: ignore[arg-type]
        answer=None
        if rules is None
        else AnswerRulesPublic(**{k: rules.get(k) for k in ("min", "max", "step")}),
    )


@router.post("/projects/{project}/next", response_model=NextTaskPublic)
async def next_task(project: ProjectName, user: UserDep, runtime: RuntimeDep) -> NextTaskPublic:
    """Lease the next task by score (the same one again while its lease holds)."""
    return await runtime.call(_next_task, project, user, runtime)


def _next_task(project: str, user: AnnotatorInfo, runtime: Runtime) -> NextTaskPublic:
    info = member_project(runtime.store, user, project)
    stop = _stop_of(runtime, project)
    found = annotating.next_task(runtime.store, project, user.name, info=info, stop=stop)
    return _next_public(runtime, info, found)


def _stop_of(runtime: Runtime, project: str) -> StopDecision:
    """The project's stop state as this server keeps it."""
    loop = runtime.loop(project)
    return StopDecision(loop.stopped, loop.stop_reason)


def _next_public(
    runtime: Runtime, info: ProjectInfo | None, found: annotating.NextTask
) -> NextTaskPublic:
    """The task handed out, with the model's suggestion where the project shows them."""
    if found.lease is None or info is None:
        return NextTaskPublic(task=None, reason=found.reason)
    shown = suggestion_with_task(runtime.loop(info.name).controller, info, found.lease)
    return NextTaskPublic(task=_task_public(info.name, found.lease, shown))


def _answerable(
    runtime: Runtime, user: AnnotatorInfo, task_id: int, body: AnnotationCreate
) -> tuple[TaskView, str]:
    """The caller's task and the answer as the store keeps it, when the project takes it (404
    or 422 naming the problem: a label outside the label space, a number out of bounds or off
    the step, an unknown label in a set, an answer of the wrong kind)."""
    view = _own_task(runtime.store, user, task_id)
    info = view.project_info
    kind = "label" if info is None else info.answer_kind
    if body.kind != kind:
        field = {
            "label": "'label'",
            "number": "'value' (a number)",
            "labels": "'labels' (a list)",
            "spans": "'spans' (a list of [start, end, label])",
        }
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"project {view.project!r} takes {field[kind]} answers, not {field[body.kind]}",
        )
    if kind == "label":
        label = str(body.label)
        if label not in view.label_space:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"label {label!r} is not one of {', '.join(view.label_space)}",
            )
        return view, label
    spec = AnswerSpec.of(kind, view.label_space, None if info is None else info.settings)
    try:
        text = view.sample.text if kind == "spans" else None  # spans: checked against it
        return view, encode_answer(spec, body.answer, view.project, text)
    except AnswerError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None


def _may_work_on(user: AnnotatorInfo, view: TaskView) -> bool:
    return view.project_info is not None and (
        user.role == "admin" or is_member(view.project_info, user.name)
    )


@router.post(
    "/tasks/{task_id}/annotation",
    response_model=AnnotationWithNext,
    status_code=status.HTTP_201_CREATED,
)
async def annotate(
    task_id: TaskId,
    body: AnnotationCreate,
    user: UserDep,
    runtime: RuntimeDep,
    next: Annotated[
        bool, Query(description="also lease the next task in the same project (one round trip)")
    ] = False,
) -> AnnotationWithNext:
    """Answer a leased task; sending the same answer again changes nothing.

    With ``?next=true`` the reply also carries what ``POST /projects/{project}/next`` would
    return now; the answer and the next lease are one transaction.
    """
    return await runtime.call(_annotate, task_id, body, user, runtime, next)


def _annotate(
    task_id: int, body: AnnotationCreate, user: AnnotatorInfo, runtime: Runtime, next: bool
) -> AnnotationWithNext:
    view, value = _answerable(runtime, user, task_id, body)
    done = _answer(runtime, user, view, body, value, next=next, with_progress=False)
    return AnnotationWithNext(
        annotation_id=done.annotation.id,
        task_id=task_id,
        label=done.annotation.value,
        created_at=done.annotation.created_at,
        next=None if done.next is None else _next_public(runtime, view.project_info, done.next),
    )


def _answer(
    runtime: Runtime,
    user: AnnotatorInfo,
    view: TaskView,
    body: AnnotationCreate,
    value: str,
    *,
    next: bool,
    with_progress: bool,
) -> annotating.Answered:
    """The controller's answer (and next task, and progress); a caller no longer in the
    project has the answer stored and gets no next task."""
    store, task_id = runtime.store, view.task_id
    if next and _may_work_on(user, view):
        return annotating.answer_and_next(
            store,
            task_id,
            user.name,
            value,
            body.seconds_spent,
            info=view.project_info,
            stop=_stop_of(runtime, view.project),
            with_progress=with_progress,
        )
    done = annotating.answer(store, task_id, user.name, value, body.seconds_spent)
    if not next:
        return done
    gone = annotating.NextTask(None, f"no project {view.project!r} for you")
    return annotating.Answered(done.annotation, gone)


@router.post(
    "/tasks/{task_id}/answer",
    response_model=AnswerPublic,
    status_code=status.HTTP_201_CREATED,
)
async def answer(
    task_id: TaskId, body: AnnotationCreate, user: UserDep, runtime: RuntimeDep
) -> AnswerPublic:
    """Answer a leased task and get the next task and your progress, in one request.

    What the annotation page sends after each answer: the answer and the next lease are one
    transaction (sending the same answer again changes nothing and brings back the task you
    hold); ``progress`` is what ``GET /projects/{project}/progress`` returns after them.
    """
    return await runtime.call(_answer_next_progress, task_id, body, user, runtime)


def _answer_next_progress(
    task_id: int, body: AnnotationCreate, user: AnnotatorInfo, runtime: Runtime
) -> AnswerPublic:
    view, value = _answerable(runtime, user, task_id, body)
    done = _answer(runtime, user, view, body, value, next=True, with_progress=True)
    assert done.next is not None
    shown = None
    if done.progress is not None:
        shown = _progress_public(runtime, view.project, done.progress)
    return AnswerPublic(
        annotation_id=done.annotation.id,
        task_id=task_id,
        label=done.annotation.value,
        created_at=done.annotation.created_at,
        next=_next_public(runtime, view.project_info, done.next),
        progress=shown,
    )


@router.post(
    "/tasks/{task_id}/skip",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def skip(task_id: TaskId, user: UserDep, store: StoreDep) -> Response:
    """Give the task back unanswered; you will not be asked it again."""
    _own_task(store, user, task_id)
    skip_task(store, task_id, user.name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tasks/{task_id}/lease", response_model=LeasePublic)
async def heartbeat(task_id: TaskId, user: UserDep, runtime: RuntimeDep) -> LeasePublic:
    """Keep your task: the open page calls this every 30 s or so, and the lease starts over.

    409 when the task is no longer yours (answered, skipped, or its lease ran out).
    """
    return await runtime.call(_heartbeat, task_id, user, runtime)


def _heartbeat(task_id: int, user: AnnotatorInfo, runtime: Runtime) -> LeasePublic:
    view = _own_task(runtime.store, user, task_id)
    settings = loop_settings({} if view.project_info is None else view.project_info.settings)
    expires = renew_lease(runtime.store, task_id, user.name, settings.lease_seconds)
    return LeasePublic(task_id=task_id, expires_at=expires)


@router.post("/projects/{project}/undo", response_model=TaskPublic)
def undo(project: ProjectName, user: UserDep, runtime: RuntimeDep) -> TaskPublic:
    """Take back your last answer in the project: its task is yours again (with the model's
    suggestion, where the project shows them)."""
    info = member_project(runtime.store, user, project)
    controller = runtime.loop(project).controller
    lease = undo_last(runtime.store, project, user.name, controller.settings().lease_seconds)
    return _task_public(project, lease, suggestion_with_task(controller, info, lease))


@router.get("/tasks/{task_id}/guess", response_model=GuessPublic)
def guess(task_id: TaskId, user: UserDep, runtime: RuntimeDep) -> GuessPublic:
    """The model's current answer for the task (pre-annotation); reading it keeps nothing
    (``POST`` serves it to the task's annotator)."""
    view = _own_task(runtime.store, user, task_id)
    return _guess_public(runtime.loop(view.project).controller.guess(view.sample))


@router.post("/tasks/{task_id}/guess", response_model=GuessPublic)
async def serve_guess(task_id: TaskId, user: UserDep, runtime: RuntimeDep) -> GuessPublic:
    """The model's current answer for the task, as its annotator is shown it on request (the
    page's "show suggestion" key, or a new model's): kept with the task, so that their answer
    can be compared with it. Anyone else (an admin) only reads it."""
    return await runtime.call(_serve_guess, task_id, user, runtime)


def _serve_guess(task_id: int, user: AnnotatorInfo, runtime: Runtime) -> GuessPublic:
    view = _own_task(runtime.store, user, task_id)
    controller = runtime.loop(view.project).controller
    return _guess_public(suggestion_on_request(controller, view, user.name))


@router.get(
    "/tasks/{task_id}/image",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
def image(task_id: TaskId, user: UserDep, store: StoreDep) -> FileResponse:
    """The task's image."""
    view = _own_task(store, user, task_id)
    uri = view.sample.uri
    if uri is None or not FilePath(uri).is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"task {task_id} has no image file")
    return FileResponse(uri)


@router.get("/projects/{project}/progress", response_model=ProgressPublic)
def progress(project: ProjectName, user: UserDep, runtime: RuntimeDep) -> ProgressPublic:
    """Your labels, the budget left, the current round and its accuracy on the eval split."""
    member_project(runtime.store, user, project)
    found = annotating.progress(runtime.store, project, user.name)
    return _progress_public(runtime, project, found)


def _progress_public(runtime: Runtime, project: str, found: AnnotatorProgress) -> ProgressPublic:
    stop = _stop_of(runtime, project)
    return ProgressPublic(
        project=project,
        my_labels=found.my_labels,
        labeled=found.labeled,
        budget=found.budget,
        budget_left=found.budget_left,
        round=found.round,
        eval_accuracy=found.eval_accuracy,
        stopped=stop.stop,
        stop_reason=stop.reason,
    )
