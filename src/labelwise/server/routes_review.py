"""The reviewer's API and page: disagreements to resolve, the data browser, the model's standing.

* ``GET /api/projects/{project}/model``: the model annotators work with (any member);
* ``GET /api/review/projects/{project}/disagreements``: samples whose answers differ, each
  with every answer and the model's guess (reviewers and admins);
* ``POST /api/review/projects/{project}/samples/{sample_id}/resolution``: the reviewer's final
  label, stored through :func:`labelwise.store.reaggregate` with the method ``review``;
* ``GET /api/review/projects/{project}/samples``: the data browser (filters, one page);
* ``GET /review``: the reviewer's page.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path as FilePath
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import FileResponse

from labelwise.server.deps import RuntimeDep, StoreDep, UserDep, member_project
from labelwise.server.runtime import Runtime
from labelwise.server.schemas import (
    ERROR_RESPONSES,
    ModelStatusPublic,
    ResolutionCreate,
    SampleAnswerPublic,
    SampleGuessPublic,
    SamplePagePublic,
    SamplePublic,
)
from labelwise.store import AnnotatorInfo, SampleRecord, Vote, list_rounds, reaggregate
from labelwise.store.browse import SampleView, browse_samples, disagreements, sample_view
from labelwise.store.engine import utcnow

__all__ = ["REVIEW_METHOD", "router"]

#: The API routes (under ``/api``) and the reviewer's page (``/review``).
router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)

ProjectName = Annotated[str, Path(min_length=1, max_length=200)]
SampleId = Annotated[int, Path(ge=1, le=2**62, description="a sample id")]
Text = Annotated[str | None, Query(min_length=1, max_length=200)]
#: How the review stores its label (``label.method``).
REVIEW_METHOD = "review"
_STATIC = FilePath(__file__).parent / "static"


async def require_reviewer(user: UserDep) -> AnnotatorInfo:
    """The caller, when a reviewer or an admin; 403 otherwise."""
    if user.role not in ("reviewer", "admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs a reviewer's or admin's token")
    return user


ReviewerDep = Annotated[AnnotatorInfo, Depends(require_reviewer)]


def _public(project: str, view: SampleView, runtime: Runtime | None = None) -> SamplePublic:
    guess = None
    if runtime is not None and view.split != "eval":
        record = SampleRecord(
            view.id, view.external_id, view.text, view.uri, view.split, view.state
        )
        found = runtime.loop(project).controller.guess(record)
        if found is not None:
            guess = SampleGuessPublic(
                label=found.label, probability=found.probability, round=found.round
            )
    return SamplePublic(
        sample_id=view.id,
        external_id=view.external_id,
        text=view.text,
        image_url=None
        if view.uri is None
        else f"/api/review/projects/{quote(project, safe='')}/samples/{view.id}/image",
        split=view.split,
        state=view.state,
        label=view.label,
        method=view.method,
        agreement=view.agreement,
        answers=[
            SampleAnswerPublic(
                annotator=a.annotator,
                label=a.value,
                created_at=a.created_at,
                seconds_spent=a.seconds_spent,
            )
            for a in view.answers
        ],
        guess=guess,
    )


@router.get("/api/projects/{project}/model", response_model=ModelStatusPublic)
def model_status(project: ProjectName, user: UserDep, runtime: RuntimeDep) -> ModelStatusPublic:
    """The model behind the suggestions: its round, how long ago it was trained, its accuracy."""
    info = member_project(runtime.store, user, project)
    settings = runtime.loop(project).controller.settings()
    trained = [r for r in list_rounds(runtime.store, project) if r.model_version is not None]
    last = trained[-1] if trained else None
    return ModelStatusPublic(
        project=project,
        round=None if last is None else last.number,
        trained_at=None if last is None else last.created_at,
        seconds_ago=None
        if last is None
        else max(0.0, (utcnow() - last.created_at).total_seconds()),
        eval_accuracy=None if last is None else last.metrics.get("eval_accuracy"),
        retrain_every=settings.retrain_every,
        show_suggestion=bool(info.settings.get("show_suggestion", True)),
    )


@router.get(
    "/api/review/projects/{project}/disagreements",
    response_model=list[SamplePublic],
)
def list_disagreements(
    project: ProjectName,
    reviewer: ReviewerDep,
    runtime: RuntimeDep,
    open_only: Annotated[
        bool, Query(description="leave out the samples a reviewer already resolved")
    ] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SamplePublic]:
    """Samples whose answers differ, each with every answer and the model's guess."""
    member_project(runtime.store, reviewer, project)
    found = disagreements(runtime.store, project, limit=limit)
    if open_only:
        found = [view for view in found if view.method != REVIEW_METHOD]
    return [_public(project, view, runtime) for view in found]


@router.post(
    "/api/review/projects/{project}/samples/{sample_id}/resolution", response_model=SamplePublic
)
def resolve(
    project: ProjectName,
    sample_id: SampleId,
    body: ResolutionCreate,
    reviewer: ReviewerDep,
    runtime: RuntimeDep,
) -> SamplePublic:
    """Set a sample's final label; it is stored with the method ``review`` (and audited)."""
    info = member_project(runtime.store, reviewer, project)
    if body.label not in info.label_space:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"label {body.label!r} is not one of {', '.join(info.label_space)}",
        )
    view = sample_view(runtime.store, project, sample_id)
    if view.split == "gold":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"sample {view.external_id!r} is a gold question: its answer is the gold label",
        )
    if view.label is None or not view.answers:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"sample {view.external_id!r} has no label from annotators yet: resolve it once"
            " its answers are in",
        )
    share = sum(a.value == body.label for a in view.answers) / len(view.answers)

    def chosen(_votes: Sequence[Vote]) -> dict[int, tuple[str, float | None]]:
        return {sample_id: (body.label, share)}

    reaggregate(runtime.store, project, chosen, REVIEW_METHOD, actor=reviewer.name)
    return _public(project, sample_view(runtime.store, project, sample_id))


@router.get("/api/review/projects/{project}/samples", response_model=SamplePagePublic)
def browse(
    project: ProjectName,
    reviewer: ReviewerDep,
    store: StoreDep,
    split: Annotated[Literal["pool", "eval", "gold"] | None, Query()] = None,
    state: Annotated[
        Literal["unlabeled", "queued", "in_progress", "labeled", "skipped"] | None, Query()
    ] = None,
    label: Text = None,
    annotator: Text = None,
    q: Annotated[str | None, Query(max_length=200, description="text or id contains")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> SamplePagePublic:
    """The project's samples that pass the filters, one page at a time, with their answers."""
    member_project(store, reviewer, project)
    found, total = browse_samples(
        store,
        project,
        split=split,
        state=state,
        label=label,
        annotator=annotator,
        search=q,
        limit=limit,
        offset=offset,
    )
    return SamplePagePublic(total=total, samples=[_public(project, v) for v in found])


@router.get(
    "/api/review/projects/{project}/samples/{sample_id}/image",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
def sample_image(
    project: ProjectName, sample_id: SampleId, reviewer: ReviewerDep, store: StoreDep
) -> FileResponse:
    """The sample's image."""
    member_project(store, reviewer, project)
    view = sample_view(store, project, sample_id)
    if view.uri is None or not FilePath(view.uri).is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"sample {sample_id} has no image file")
    return FileResponse(view.uri)


@router.get("/review", include_in_schema=False)
def review_page() -> FileResponse:
    return FileResponse(str(_STATIC / "review.html"))
