"""The annotator's API: next task, answer, lease heartbeat, skip, undo, guess, progress."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import FileResponse, Response

from labelwise.controller import loop_settings
from labelwise.server.deps import RuntimeDep, StoreDep, UserDep, member_project
from labelwise.server.runtime import Runtime
from labelwise.server.schemas import (
    ERROR_RESPONSES,
    AnnotationCreate,
    AnnotationPublic,
    GuessPublic,
    LeasePublic,
    MePublic,
    NextTaskPublic,
    ProgressPublic,
    ProjectPublic,
    TaskPublic,
)
from labelwise.store import (
    AnnotatorInfo,
    ProjectInfo,
    Store,
    TaskLease,
    lease_next_task,
    list_projects,
    list_rounds,
    renew_lease,
    submit_annotation,
)
from labelwise.store import status as store_status
from labelwise.store.annotator_stats import annotation_count, labeled_count
from labelwise.store.corrections import skip_task, undo_last
from labelwise.store.members import is_member
from labelwise.store.queue import submit_and_lease_next
from labelwise.store.tasks import TaskView, task_view

router = APIRouter(prefix="/api", tags=["annotate"], responses=ERROR_RESPONSES)


class AnnotationWithNext(AnnotationPublic):
    """An answer as stored and, when asked for with ``?next=true``, the next task."""

    next: NextTaskPublic | None = None


TaskId = Annotated[int, Path(ge=1, le=2**62, description="a task id")]
ProjectName = Annotated[str, Path(min_length=1, max_length=200)]


def _task_public(project: str, lease: TaskLease) -> TaskPublic:
    return TaskPublic(
        task_id=lease.task_id,
        project=project,
        external_id=lease.external_id,
        text=lease.text,
        image_url=None if lease.uri is None else f"/api/tasks/{lease.task_id}/image",
        expires_at=lease.expires_at,
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
        ProjectPublic(
            name=p.name, task_type=p.task_type, labels=list(p.label_space), overlap=p.overlap
        )
        for p in list_projects(store)
        if user.role == "admin" or is_member(p, user.name)
    ]


@router.post("/projects/{project}/next", response_model=NextTaskPublic)
async def next_task(project: ProjectName, user: UserDep, runtime: RuntimeDep) -> NextTaskPublic:
    """Lease the next task by score (the same one again while its lease holds)."""
    return await runtime.call(_next_task, project, user, runtime)


def _next_task(project: str, user: AnnotatorInfo, runtime: Runtime) -> NextTaskPublic:
    info = member_project(runtime.store, user, project)
    refused = _refusal(runtime, info)
    if refused is not None:
        return refused
    settings = loop_settings(info.settings)
    lease = lease_next_task(
        runtime.store,
        project,
        user.name,
        settings.lease_seconds,
        gold_fraction=settings.gold_fraction,
    )
    return _next_public(project, lease)


def _refusal(runtime: Runtime, info: ProjectInfo) -> NextTaskPublic | None:
    """Why no task may be leased in the project now (stopped, budget spent), or None."""
    loop = runtime.loop(info.name)
    if loop.stopped:
        return NextTaskPublic(task=None, reason=f"the project stopped: {loop.stop_reason}")
    budget = info.settings.get("budget")
    if budget is not None and store_status(runtime.store, info.name).annotations >= budget:
        return NextTaskPublic(task=None, reason="the budget is spent")
    return None


def _next_public(project: str, lease: TaskLease | None) -> NextTaskPublic:
    if lease is None:
        return NextTaskPublic(task=None, reason="no task in the queue right now")
    return NextTaskPublic(task=_task_public(project, lease))


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
    return now; when the project has a budget or has stopped, the answer is stored first and
    the next task follows the same checks as that call, otherwise both happen in one
    transaction.
    """
    return await runtime.call(_annotate, task_id, body, user, runtime, next)


def _annotate(
    task_id: int, body: AnnotationCreate, user: AnnotatorInfo, runtime: Runtime, next: bool
) -> AnnotationWithNext:
    store = runtime.store
    view = _own_task(store, user, task_id)
    if body.label not in view.label_space:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"label {body.label!r} is not one of {', '.join(view.label_space)}",
        )
    following: NextTaskPublic | None = None
    info = view.project_info
    if (
        next
        and info is not None
        and (user.role == "admin" or is_member(info, user.name))
        and info.settings.get("budget") is None
        and not runtime.loop(view.project).stopped
    ):
        settings = loop_settings(info.settings)
        record, lease = submit_and_lease_next(
            store,
            task_id,
            user.name,
            body.label,
            body.seconds_spent,
            lease_seconds=settings.lease_seconds,
            gold_fraction=settings.gold_fraction,
        )
        following = _next_public(view.project, lease)
    else:
        record = submit_annotation(store, task_id, user.name, body.label, body.seconds_spent)
        if next:
            try:
                following = _next_task(view.project, user, runtime)
            except HTTPException as exc:  # no longer a member: the answer stands, no next task
                following = NextTaskPublic(task=None, reason=str(exc.detail))
    return AnnotationWithNext(
        annotation_id=record.id,
        task_id=task_id,
        label=record.value,
        created_at=record.created_at,
        next=following,
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
    """Take back your last answer in the project: its task is yours again."""
    member_project(runtime.store, user, project)
    lease = undo_last(
        runtime.store, project, user.name, runtime.loop(project).controller.settings().lease_seconds
    )
    return _task_public(project, lease)


@router.get("/tasks/{task_id}/guess", response_model=GuessPublic)
def guess(task_id: TaskId, user: UserDep, runtime: RuntimeDep) -> GuessPublic:
    """The model's current answer for the task (pre-annotation)."""
    view = _own_task(runtime.store, user, task_id)
    found = runtime.loop(view.project).controller.guess(view.sample)
    if found is None:
        return GuessPublic(label=None, probability=None, round=None)
    return GuessPublic(label=found.label, probability=found.probability, round=found.round)


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
    loop = runtime.loop(project)
    counts = store_status(runtime.store, project)
    report = None if loop.retrainer is None else loop.retrainer.last_report
    rounds = list_rounds(runtime.store, project) if report is None else []
    number = report.number if report is not None else (rounds[-1].number if rounds else 0)
    accuracy = (
        report.eval_accuracy
        if report is not None
        else (rounds[-1].metrics.get("eval_accuracy") if rounds else None)
    )
    left = None if counts.budget is None else max(0, counts.budget - counts.budget_used)
    return ProgressPublic(
        project=project,
        my_labels=annotation_count(runtime.store, project, user.name),
        labeled=labeled_count(runtime.store, project),
        budget=counts.budget,
        budget_left=left,
        round=number,
        eval_accuracy=accuracy,
        stopped=loop.stopped,
        stop_reason=loop.stop_reason,
    )
