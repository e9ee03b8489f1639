"""The admin's API: projects from an import, settings, invitations, rounds, the overview and
the dashboard."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Path, UploadFile, status
from fastapi.responses import Response

from labelwise.controller.models import task_strategy
from labelwise.controller.report import project_report
from labelwise.quality.acceptance import MARGIN, MIN_ANSWERS, acceptance_by, rubber_stamping
from labelwise.server.charts import class_balance_png, learning_curve_png
from labelwise.server.deps import AdminDep, RuntimeDep, StoreDep
from labelwise.server.overview import accuracy_trend, criteria, guidance
from labelwise.server.schemas import (
    ERROR_RESPONSES,
    AcceptancePublic,
    AcceptanceRowPublic,
    AnnotatorCreate,
    AnnotatorInvited,
    AnswerRulesPublic,
    CriterionPublic,
    DashboardPublic,
    OverviewPublic,
    ProjectPublic,
    ProjectSettingsChange,
    ProjectSettingsView,
    RoundPublic,
    StrategyPublic,
)
from labelwise.server.schemas_kinds import AgreementPublic, ProjectCreateAnyKind
from labelwise.store import (
    ImportFileError,
    StoreError,
    add_annotator,
    create_project,
    get_project,
    import_samples,
    list_rounds,
)
from labelwise.store import status as store_status
from labelwise.store.answer_aggregation import project_agreement
from labelwise.store.answers import check_answer_settings
from labelwise.store.browse import annotated_class_balance
from labelwise.store.importing import SPAN_SUFFIXES
from labelwise.store.members import add_member, update_settings
from labelwise.store.projects import check_settings
from labelwise.store.relabel import RELABEL_KEYS, relabel_count
from labelwise.store.review_queue import review_confidence
from labelwise.store.suggestions import answered_suggestions

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERROR_RESPONSES)

ProjectName = Annotated[str, Path(min_length=1, max_length=200)]
_SUFFIXES = (".csv", ".jsonl", ".parquet", *SPAN_SUFFIXES)  # span files: a spans project
_PROJECT_KEYS = ("overlap", "budget", "show_suggestion", "review_confidence", *RELABEL_KEYS)


def _public(name: str, store: StoreDep) -> ProjectPublic:
    info = get_project(store, name)
    rules = info.settings.get("answer") if info.answer_kind == "number" else None
    return ProjectPublic(
        name=info.name,
        task_type=info.task_type,
        labels=list(info.label_space),
        overlap=info.overlap,
        answer_kind=info.answer_kind,  # type: ignore[arg-type]
        answer=None if rules is None else AnswerRulesPublic(**rules),
    )


def _unprocessable(problem: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)


@router.post("/projects", response_model=ProjectPublic, status_code=status.HTTP_201_CREATED)
def new_project(body: ProjectCreateAnyKind, admin: AdminDep, store: StoreDep) -> ProjectPublic:
    """Create an empty project: its label space, or a number project's bounds and step."""
    rules = {"min": body.min, "max": body.max, "step": body.step, "aggregation": body.aggregation}
    given = {k: v for k, v in rules.items() if v is not None}
    if body.answer_kind == "number":
        if body.labels:
            raise _unprocessable("a number project takes no labels: leave the labels empty")
    elif given:
        raise _unprocessable(
            f"{', '.join(given)} apply to number projects only (answer_kind 'number')"
        )
    elif len(body.labels) < 2:
        raise _unprocessable("the label space needs at least 2 labels (e.g. 'neg, pos')")
    settings = {"answer": given} if given else None
    try:  # the rules first: a bad bound is the request's problem, not a conflict
        check_answer_settings(body.answer_kind, body.labels, settings)
    except StoreError as exc:
        raise _unprocessable(str(exc)) from None
    create_project(
        store,
        body.name,
        body.labels,
        body.task_type,
        settings,
        answer_kind=body.answer_kind,
        actor=admin.name,
    )
    return _public(body.name, store)


#: What the agreement says, one line per answer kind, and its distance.
_AGREEMENT_WORDS = {
    "label": ("nominal", "the same label"),
    "number": ("interval", "close numbers (the squared difference counts)"),
    "labels": ("MASI", "overlapping label sets (MASI distance)"),
}
AGREEMENT_UNDEFINED = (
    "undefined until two annotators have answered the same samples and the answers vary "
    "(set overlap to 2 or more)"
)


@router.get("/projects/{project}/agreement", response_model=AgreementPublic)
def agreement(project: ProjectName, admin: AdminDep, store: StoreDep) -> AgreementPublic:
    """Krippendorff's alpha over the project's standing answers, by its answer kind."""
    info = get_project(store, project)
    if info.answer_kind not in _AGREEMENT_WORDS:  # spans: agreement by span F1, not here
        return AgreementPublic(
            answer_kind=info.answer_kind,
            alpha=None,
            metric="none",
            explanation=f"This page has no alpha for {info.answer_kind!r} projects.",
            undefined_because=f"not computed for {info.answer_kind!r} projects",
        )
    distance, agree = _AGREEMENT_WORDS[info.answer_kind]
    alpha: float | None
    try:
        alpha = project_agreement(store, project)
    except StoreError:
        alpha = None
    if alpha is not None and alpha != alpha:  # NaN: no variation to measure against
        alpha = None
    return AgreementPublic(
        answer_kind=info.answer_kind,
        alpha=alpha,
        metric=f"Krippendorff's alpha ({distance})",
        explanation=f"1 means annotators give {agree} on the samples they share, 0 no better "
        "than chance, below 0 systematic disagreement.",
        undefined_because=AGREEMENT_UNDEFINED if alpha is None else None,
    )


@router.post("/projects/{project}/import", response_model=dict[str, int | str | bool])
def import_file(
    project: ProjectName,
    admin: AdminDep,
    store: StoreDep,
    file: Annotated[UploadFile, File(description="a CSV, JSONL or Parquet file of samples")],
    labels: Annotated[
        str | None,
        Form(
            max_length=20_000,
            description="the label space of a new project, comma-separated (e.g. 'neg, pos');"
            " default: the labels found in the file",
        ),
    ] = None,
) -> dict[str, int | str | bool]:
    """Import a file of samples into a project (created when new), all or nothing."""
    name = FilePath(file.filename or "").name or "the upload"
    suffix = FilePath(name).suffix.lower()
    if suffix not in _SUFFIXES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"upload a {', '.join(_SUFFIXES)} file, not {name!r}",
        )
    space = label_space(labels)
    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / f"upload{suffix}"
        with path.open("wb") as copy:
            shutil.copyfileobj(file.file, copy)  # in chunks: an upload may be large
        try:
            report = import_samples(store, path, project, labels=space, actor=admin.name)
        except ImportFileError as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, import_problem(exc, name)
            ) from None
    return {k: v for k, v in asdict(report).items() if k != "path"}


def label_space(text: str | None) -> list[str] | None:
    """The label space typed in the import form (comma- or line-separated); None when empty."""
    if text is None or not text.strip():
        return None
    found = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
    doubled = sorted({label for label in found if found.count(label) > 1})
    if doubled:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"the label space names {', '.join(map(repr, doubled))} more than once",
        )
    if len(found) < 2:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "the label space needs at least 2 labels, comma-separated (e.g. 'neg, pos')",
        )
    return found


#: The import's advice in the CLI's words, and the same advice for the import form.
_FORM_WORDS = (
    ("give --labels a,b,c", "fill in the label space field (e.g. 'neg, pos')"),
    ("--labels differ", "the label space field differs"),
    ("--labels", "the label space field"),
)


def import_problem(exc: ImportFileError, filename: str) -> str:
    """The import's error in the form's words: the uploaded file's own name, no server path."""
    problem = exc.problem
    for cli, form in _FORM_WORDS:
        problem = problem.replace(cli, form)
    where = filename if exc.line is None else f"{filename}, line {exc.line}"
    if exc.line is not None and exc.column is not None:
        where += f", column {exc.column}"
    return f"{where}: {problem}; nothing was imported"


def _settings_public(project: str, runtime: RuntimeDep) -> ProjectSettingsView:
    info = get_project(runtime.store, project)
    loop = runtime.loop(project).controller.settings()
    # the strategy that runs: a regression or multi-label project's default stands in for a
    # stored one that does not serve its task
    running = task_strategy(info.answer_kind, loop.strategy)
    return ProjectSettingsView(
        overlap=info.overlap,
        budget=info.settings.get("budget"),
        loop=loop.to_dict() | {"strategy": running},
        show_suggestion=bool(info.settings.get("show_suggestion", True)),
        review_confidence=review_confidence(info.settings),
        relabel_below=info.settings.get("relabel_below"),
        max_annotators=info.settings.get("max_annotators"),
    )


@router.get("/projects/{project}/settings", response_model=ProjectSettingsView)
def get_settings(project: ProjectName, admin: AdminDep, runtime: RuntimeDep) -> ProjectSettingsView:
    """The project's settings: overlap, budget and the loop's."""
    return _settings_public(project, runtime)


@router.patch("/projects/{project}/settings", response_model=ProjectSettingsView)
def change_settings(
    project: ProjectName, body: ProjectSettingsChange, admin: AdminDep, runtime: RuntimeDep
) -> ProjectSettingsView:
    """Change settings; fields left out keep their value (budget, relabel_below and
    max_annotators: send null to clear them; relabel_below null turns relabeling off)."""
    given = body.model_dump(exclude_unset=True)
    loop_changes = {k: v for k, v in given.items() if k not in _PROJECT_KEYS}
    project_changes = {k: v for k, v in given.items() if k in _PROJECT_KEYS}
    for key in ("overlap", "show_suggestion", "review_confidence"):
        if key in project_changes and project_changes[key] is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{key} cannot be null")
    controller = runtime.loop(project).controller
    controller.settings()  # 404 for an unknown project before anything is stored
    if project_changes:  # checked before anything is stored (max_annotators against overlap)
        info = get_project(runtime.store, project)
        try:
            check_settings({**info.settings, **project_changes}, info.answer_kind)
        except StoreError as exc:
            raise _unprocessable(str(exc)) from None
    if loop_changes:
        controller.configure(actor=admin.name, **loop_changes)
    if project_changes:
        update_settings(runtime.store, project, project_changes, actor=admin.name)
    return _settings_public(project, runtime)


@router.get("/strategies", response_model=list[StrategyPublic])
def strategies(
    admin: AdminDep, answer_kind: Literal["label", "number", "labels", "spans"] = "label"
) -> list[StrategyPublic]:
    """The strategies a project of ``answer_kind`` can run, with their needs and the model that
    serves them (``auto``'s pick; a regression or multi-label project's one model)."""
    from labelwise.controller.models import TASK_MODELS, resolve_model
    from labelwise.controller.settings import task_strategy_needs
    from labelwise.errors import InvalidInputError
    from labelwise.strategies import available_strategies, get_strategy

    if answer_kind in TASK_MODELS:
        model = TASK_MODELS[answer_kind][1]
        return [
            StrategyPublic(name=name, needs=needs, model=model)
            for name, needs in task_strategy_needs(answer_kind).items()
        ]
    found = []
    for name in available_strategies():
        needs: list[str] = sorted(get_strategy(name).needs)
        try:
            found.append(StrategyPublic(name=name, needs=needs, model=resolve_model(name)))
        except InvalidInputError as exc:
            found.append(StrategyPublic(name=name, needs=needs, model=None, why_not=str(exc)))
    return found


@router.post(
    "/projects/{project}/annotators",
    response_model=AnnotatorInvited,
    status_code=status.HTTP_201_CREATED,
)
def invite(
    project: ProjectName, body: AnnotatorCreate, admin: AdminDep, store: StoreDep
) -> AnnotatorInvited:
    """Invite a new annotator to the project; their token is shown here, once."""
    get_project(store, project)
    token = secrets.token_urlsafe(24)
    add_annotator(store, body.name, body.role, token, actor=admin.name)
    add_member(store, project, body.name, actor=admin.name)
    return AnnotatorInvited(name=body.name, role=body.role, project=project, token=token)


@router.post("/projects/{project}/rounds", response_model=RoundPublic)
def run_round(project: ProjectName, admin: AdminDep, runtime: RuntimeDep) -> RoundPublic:
    """Run a round now: train, score the pool, re-order the queue."""
    get_project(runtime.store, project)
    report = runtime.loop(project).controller.run_round(actor=admin.name)
    return RoundPublic(
        number=report.number,
        strategy=report.strategy,
        n_labeled=report.n_labeled,
        queued=report.queued,
        eval_accuracy=report.eval_accuracy,
        stopped=report.stop.stop,
        stop_reason=report.stop.reason,
    )


@router.get("/projects/{project}/dashboard", response_model=DashboardPublic)
def dashboard(project: ProjectName, admin: AdminDep, runtime: RuntimeDep) -> DashboardPublic:
    """Learning curve, class balance, agreement, gold accuracy per annotator, budget."""
    report = project_report(runtime.store, project)
    retrainer = runtime.loop(project).retrainer
    values = asdict(report) | {"class_balance": annotated_class_balance(runtime.store, project)}
    return DashboardPublic(
        **values, retrain_error=None if retrainer is None else retrainer.last_error
    )


@router.get(
    "/projects/{project}/learning-curve.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def learning_curve(project: ProjectName, admin: AdminDep, store: StoreDep) -> Response:
    """The learning curve so far, as a PNG."""
    report = project_report(store, project)
    return Response(learning_curve_png(report.curve, project), media_type="image/png")


@router.get(
    "/projects/{project}/class-balance.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def class_balance(project: ProjectName, admin: AdminDep, store: StoreDep) -> Response:
    """Labels given by annotators per class (imported labels left out), as a PNG bar chart."""
    balance = annotated_class_balance(store, project)  # what the dashboard's table shows
    title = f"{project}: labels given by annotators, per class"
    return Response(class_balance_png(balance, title), media_type="image/png")


@router.get("/projects/{project}/overview", response_model=OverviewPublic)
def overview(project: ProjectName, admin: AdminDep, runtime: RuntimeDep) -> OverviewPublic:
    """Labels, budget, eval accuracy and its trend, the stopping criteria and what to do."""
    get_project(runtime.store, project)
    loop = runtime.loop(project)
    settings = loop.controller.settings()
    rounds = [r.metrics for r in list_rounds(runtime.store, project)]
    counts = store_status(runtime.store, project)
    trend = accuracy_trend(rounds)
    found = criteria(rounds, settings, counts.budget, counts.budget_used)
    reason = loop.stop_reason if loop.stopped else None
    return OverviewPublic(
        project=project,
        labels=sum(annotated_class_balance(runtime.store, project).values()),
        annotations=counts.annotations,
        budget=counts.budget,
        budget_used=counts.budget_used,
        rounds=len(rounds),
        eval_accuracy=trend.accuracy,
        accuracy_change=trend.change,
        trend_labels=trend.labels,
        criteria=[CriterionPublic(**vars(c)) for c in found],
        sentence=guidance(trend, found, counts.budget, counts.budget_used, reason),
        stopped=loop.stopped,
        stop_reason=reason,
        relabeled=relabel_count(runtime.store, project),
    )


@router.get("/projects/{project}/acceptance", response_model=AcceptancePublic)
def acceptance(project: ProjectName, admin: AdminDep, store: StoreDep) -> AcceptancePublic:
    """How often answers equal the model's suggestion they followed, per annotator and per
    suggested class, beside the model's accuracy on the eval split (rubber-stamping flagged)."""
    rounds = [r.metrics for r in list_rounds(store, project)]
    accuracy = accuracy_trend(rounds).accuracy
    rows = [(a.annotator, a.suggestion, a.answer) for a in answered_suggestions(store, project)]
    people = acceptance_by(rows, "annotator")
    explanation = (
        "Share of answers equal to the suggestion shown with the task. An annotator who"
        f" accepts {100 * MARGIN:.0f} points more often than the model is right on the eval"
        f" split (over {MIN_ANSWERS}+ answers) is flagged: likely rubber-stamping."
    )
    if not rows:
        explanation += " No answer followed a suggestion yet."
    return AcceptancePublic(
        project=project,
        model_accuracy=accuracy,
        margin=MARGIN,
        min_answers=MIN_ANSWERS,
        explanation=explanation,
        annotators=[
            AcceptanceRowPublic(
                key=a.key,
                n=a.n,
                accepted=a.accepted,
                rate=a.rate,
                rubber_stamping=rubber_stamping(a, accuracy),
            )
            for a in people
        ],
        classes=[
            AcceptanceRowPublic(key=c.key, n=c.n, accepted=c.accepted, rate=c.rate)
            for c in acceptance_by(rows, "suggestion")
        ],
    )
