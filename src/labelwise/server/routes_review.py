"""The reviewer's API and page: disagreements to resolve, the data browser, the model's standing.

* ``GET /api/projects/{project}/model``: the model annotators work with (any member);
* ``GET /api/review/projects/{project}/disagreements``: samples whose answers differ, each
  with every answer and the model's guess (reviewers and admins);
* ``GET /api/review/projects/{project}/queue``: the review queue: disagreements, answers
  against a confident model, against Dawid-Skene's label, failed gold questions
  (:mod:`labelwise.store.review_queue`), each sample with its reasons;
* ``POST /api/review/projects/{project}/samples/{sample_id}/resolution``: the reviewer's final
  label, stored through :func:`labelwise.store.reaggregate` with the method ``review`` (no
  later aggregation replaces it);
* ``POST /api/review/projects/{project}/samples/{sample_id}/gold``: a failed gold question
  checked: its gold label confirmed or corrected;
* ``GET /api/review/projects/{project}/samples``: the data browser (filters, one page), and
  ``.../samples/export?format=csv|jsonl``: every sample that passes the same filters;
* ``GET /review``: the reviewer's page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path as FilePath
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import FileResponse, StreamingResponse

from labelwise.server.deps import RuntimeDep, StoreDep, UserDep, member_project
from labelwise.server.runtime import Runtime
from labelwise.server.schemas import (
    ERROR_RESPONSES,
    GoldReviewPublic,
    ModelStatusPublic,
    ResolutionCreate,
    ReviewItemPublic,
    ReviewReasonPublic,
    SampleAnswerPublic,
    SampleGuessPublic,
    SamplePagePublic,
    SamplePublic,
    WhyPublic,
)
from labelwise.store import (
    AnnotatorInfo,
    ProjectInfo,
    SampleRecord,
    Vote,
    list_rounds,
    reaggregate,
)
from labelwise.store.aggregation import REVIEW_METHOD
from labelwise.store.answers import AnswerError, AnswerSpec, encode_answer
from labelwise.store.browse import (
    BrowseFilters,
    SampleView,
    browse_all,
    browse_samples,
    disagreements,
    sample_view,
)
from labelwise.store.engine import utcnow
from labelwise.store.review_queue import REVIEW_KINDS, review_gold, review_queue

__all__ = ["REVIEW_METHOD", "router"]

#: The API routes (under ``/api``) and the reviewer's page (``/review``).
router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)

ProjectName = Annotated[str, Path(min_length=1, max_length=200)]
SampleId = Annotated[int, Path(ge=1, le=2**62, description="a sample id")]
Text = Annotated[str | None, Query(min_length=1, max_length=200)]
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
        why=None if view.why is None else WhyPublic(**vars(view.why)),
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
    view = sample_view(runtime.store, project, sample_id)
    label = _reviewed_answer(info, view.text, body.label)
    if view.split == "gold":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"sample {view.external_id!r} is a gold question: its answer is the gold label"
            " (check it with .../gold)",
        )
    if view.label is None or not view.answers:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"sample {view.external_id!r} has no label from annotators yet: resolve it once"
            " its answers are in",
        )
    share = sum(a.value == label for a in view.answers) / len(view.answers)

    def chosen(_votes: Sequence[Vote]) -> dict[int, tuple[str, float | None]]:
        return {sample_id: (label, share)}

    reaggregate(runtime.store, project, chosen, REVIEW_METHOD, actor=reviewer.name)
    return _public(project, sample_view(runtime.store, project, sample_id))


def browse_filters(
    split: Annotated[Literal["pool", "eval", "gold"] | None, Query()] = None,
    state: Annotated[
        Literal["unlabeled", "queued", "in_progress", "labeled", "skipped"] | None, Query()
    ] = None,
    label: Text = None,
    annotator: Text = None,
    q: Annotated[str | None, Query(max_length=200, description="text or id contains")] = None,
    round: Annotated[int | None, Query(ge=0, le=10**9, description="first queued by")] = None,
    min_score: Annotated[
        float | None, Query(allow_inf_nan=False, description="its score in that round, at least")
    ] = None,
) -> BrowseFilters:
    """The data browser's filters, the same for a page and for an export."""
    return BrowseFilters(split, state, label, annotator, q, round, min_score)


FiltersDep = Annotated[BrowseFilters, Depends(browse_filters)]


@router.get("/api/review/projects/{project}/samples", response_model=SamplePagePublic)
def browse(
    project: ProjectName,
    reviewer: ReviewerDep,
    store: StoreDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> SamplePagePublic:
    """The project's samples that pass the filters, one page at a time, with their answers
    and why each was chosen."""
    member_project(store, reviewer, project)
    found, total = browse_samples(store, project, filters, limit=limit, offset=offset)
    return SamplePagePublic(total=total, samples=[_public(project, v) for v in found])


#: The export's columns, one row per sample (answers as ``annotator:label`` joined by ``;``).
EXPORT_COLUMNS = (
    "sample_id",
    "external_id",
    "split",
    "state",
    "label",
    "method",
    "agreement",
    "answers",
    "round",
    "strategy",
    "model_version",
    "score",
    "text",
)


def _export_row(view: SampleView) -> dict[str, object]:
    why = view.why
    return {
        "sample_id": view.id,
        "external_id": view.external_id,
        "split": view.split,
        "state": view.state,
        "label": view.label,
        "method": view.method,
        "agreement": view.agreement,
        "answers": [{"annotator": a.annotator, "label": a.value} for a in view.answers],
        "round": None if why is None else why.round,
        "strategy": None if why is None else why.strategy,
        "model_version": None if why is None else why.model_version,
        "score": None if why is None else why.score,
        "text": view.text if view.text is not None else view.uri,
    }


def _csv_lines(views: Iterator[SampleView]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for view in views:
        row = _export_row(view)
        answers = row["answers"]
        assert isinstance(answers, list)
        row["answers"] = ";".join(f"{a['annotator']}:{a['label']}" for a in answers)
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _jsonl_lines(views: Iterator[SampleView]) -> Iterator[str]:
    for view in views:
        yield json.dumps(_export_row(view), ensure_ascii=False) + "\n"


@router.get(
    "/api/review/projects/{project}/samples/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def export_samples(
    project: ProjectName,
    reviewer: ReviewerDep,
    store: StoreDep,
    filters: FiltersDep,
    format: Annotated[Literal["csv", "jsonl"], Query(description="csv or jsonl")] = "csv",
) -> StreamingResponse:
    """Every sample that passes the browser's filters, as CSV or JSON lines, with its label,
    answers and why it was chosen."""
    member_project(store, reviewer, project)
    views = browse_all(store, project, filters)
    lines = _csv_lines(views) if format == "csv" else _jsonl_lines(views)
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    name = f"{project}-samples.{format}".replace('"', "")
    return StreamingResponse(
        lines, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/api/review/projects/{project}/queue", response_model=list[ReviewItemPublic])
def queue(
    project: ProjectName,
    reviewer: ReviewerDep,
    runtime: RuntimeDep,
    kind: Annotated[
        list[Literal["disagreement", "confident_model", "dawid_skene", "gold_failed"]] | None,
        Query(description="the reasons to list (all when left out)"),
    ] = None,
    open_only: Annotated[
        bool, Query(description="leave out what a reviewer already resolved")
    ] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReviewItemPublic]:
    """The samples to review, each with its reasons: overlapping answers that differ, an
    answer against a suggestion at least ``review_confidence`` sure, an answer against
    Dawid-Skene's label, a failed gold question."""
    member_project(runtime.store, reviewer, project)
    found = review_queue(
        runtime.store, project, kinds=kind or REVIEW_KINDS, open_only=open_only, limit=limit
    )
    return [
        ReviewItemPublic(
            sample=_public(project, item.sample, runtime),
            reasons=[ReviewReasonPublic(**vars(r)) for r in item.reasons],
        )
        for item in found
    ]


@router.post(
    "/api/review/projects/{project}/samples/{sample_id}/gold", response_model=GoldReviewPublic
)
def check_gold(
    project: ProjectName,
    sample_id: SampleId,
    body: ResolutionCreate,
    reviewer: ReviewerDep,
    store: StoreDep,
) -> GoldReviewPublic:
    """A failed gold question checked: ``label`` is its right answer (the gold label is
    corrected when it differs); it leaves the review queue. Audited."""
    info = member_project(store, reviewer, project)
    view = sample_view(store, project, sample_id)
    label = _reviewed_answer(info, view.text, body.label)
    if view.split != "gold":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"sample {view.external_id!r} is not a gold question: resolve its label instead",
        )
    corrected = review_gold(store, project, sample_id, label, reviewer.name)
    return GoldReviewPublic(sample_id=sample_id, gold_label=label, corrected=corrected)


def _reviewed_answer(info: ProjectInfo, text: str | None, given: str) -> str:
    """A reviewer's answer in the stored form of the project's answer kind (a label of the
    label space, a number on the project's grid, a JSON list of labels or of
    ``[start, end, label]`` spans within the text); 422 naming the problem otherwise."""
    spec = AnswerSpec.of(info.answer_kind, info.label_space, info.settings)
    try:
        return encode_answer(spec, given, info.name, text)
    except AnswerError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None


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
