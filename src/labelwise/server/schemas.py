"""Request and response bodies of the JSON API (pydantic), one family per resource."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

__all__ = [
    "ERROR_RESPONSES",
    "AnnotationCreate",
    "AnnotationPublic",
    "AnnotatorCreate",
    "AnnotatorInvited",
    "AnswerPublic",
    "CriterionPublic",
    "DashboardPublic",
    "ErrorPublic",
    "GuessPublic",
    "LeasePublic",
    "MePublic",
    "ModelStatusPublic",
    "NextTaskPublic",
    "OverviewPublic",
    "ProgressPublic",
    "ProjectCreate",
    "ProjectPublic",
    "ProjectSettingsChange",
    "ProjectSettingsPublic",
    "ProjectSettingsUpdate",
    "ProjectSettingsView",
    "ResolutionCreate",
    "RoundPublic",
    "SampleAnswerPublic",
    "SampleGuessPublic",
    "SamplePagePublic",
    "SamplePublic",
    "SpanSuggestionPublic",
    "TaskPublic",
]

#: Store ids: positive 63-bit integers.
Id = Field(ge=1, le=2**62)
Name = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")


def _in_utc(value: datetime) -> datetime:
    """The store keeps naive UTC times: say so (``...Z``), as OpenAPI's ``date-time`` asks."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A time in an answer: UTC, with the zone.
UtcDateTime = Annotated[datetime, AfterValidator(_in_utc)]


class _Body(BaseModel):
    """A request body: unknown fields and non-finite numbers (NaN, Infinity) are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class MePublic(BaseModel):
    name: str
    role: str
    projects: list[str]


class AnswerRulesPublic(BaseModel):
    """A number project's rules for answers (each None when not set)."""

    min: float | None = None
    max: float | None = None
    step: float | None = None


class ProjectPublic(BaseModel):
    name: str
    task_type: str
    labels: list[str]
    overlap: int
    answer_kind: Literal["label", "number", "labels", "spans"] = "label"  # what annotators answer
    answer: AnswerRulesPublic | None = None  # bounds and step of a number project


class SpanSuggestionPublic(BaseModel):
    """A span the model suggests (code-point offsets) and its score in [0, 1]."""

    start: int
    end: int
    label: str
    score: float


class GuessPublic(BaseModel):
    """The model's current answer for a task (pre-annotation); label None before any model.
    A spans project's guess lists its spans with their scores in ``spans``."""

    label: str | None
    probability: float | None
    round: int | None
    spans: list[SpanSuggestionPublic] | None = None


class TaskPublic(BaseModel):
    """A task as its annotator sees it: the sample's content, never its gold answer, and,
    where the project shows suggestions and a model exists, the model's suggestion for it
    (kept as shown to its annotator, for suggestion acceptance)."""

    task_id: int
    project: str
    external_id: str
    text: str | None
    image_url: str | None
    expires_at: UtcDateTime
    suggestion: GuessPublic | None = None


class NextTaskPublic(BaseModel):
    """The next task, or none with the reason (queue empty, budget spent, loop stopped)."""

    task: TaskPublic | None
    reason: str | None = None


#: One span of an answer: ``[start, end, label]``, ``text[start:end]`` in Python code points.
SpanAnswer = tuple[StrictInt, StrictInt, Annotated[str, Field(min_length=1, max_length=200)]]


class AnnotationCreate(_Body):
    """An answer: ``label`` (classification), ``value`` (a number project) or ``labels`` (a
    multi-label project: the labels that apply, possibly none); exactly one of them."""

    label: str | None = Field(None, min_length=1, max_length=200)
    value: float | None = Field(None, allow_inf_nan=False)
    labels: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=1000
    )
    #: A spans project's answer: ``[start, end, label]`` in code points (possibly none).
    spans: list[SpanAnswer] | None = Field(None, max_length=10_000)
    seconds_spent: float | None = Field(None, ge=0, le=86_400, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_answer(self) -> AnnotationCreate:
        given = [n for n in ("label", "value", "labels", "spans") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "send exactly one of 'label', 'value' (a number), 'labels' (a list) or 'spans' "
                f"(a list of [start, end, label]), got {', '.join(given) or 'none'}"
            )
        return self

    @property
    def kind(self) -> str:
        """The answer kind this body carries."""
        if self.spans is not None:
            return "spans"
        return (
            "label" if self.label is not None else "number" if self.value is not None else "labels"
        )

    @property
    def answer(self) -> str | float | list[str] | list[list[int | str]]:
        """The answer, whichever field carries it."""
        if self.label is not None:
            return self.label
        if self.spans is not None:
            spans: list[list[int | str]] = [[a, b, label] for a, b, label in self.spans]
            return spans
        return self.value if self.value is not None else list(self.labels or [])


class AnnotationPublic(BaseModel):
    annotation_id: int
    task_id: int
    label: str
    created_at: UtcDateTime


class LeasePublic(BaseModel):
    """A task's lease after a heartbeat: until when it stays the caller's."""

    task_id: int
    expires_at: UtcDateTime


class ProgressPublic(BaseModel):
    project: str
    my_labels: int
    labeled: int
    budget: int | None
    budget_left: int | None
    round: int
    eval_accuracy: float | None
    stopped: bool
    stop_reason: str | None


class AnswerPublic(AnnotationPublic):
    """An answer as stored, the next task and the annotator's progress: all the annotation
    page needs after an answer, in one response."""

    next: NextTaskPublic
    progress: ProgressPublic | None  # None when the caller left the project meanwhile


class ProjectCreate(_Body):
    name: str = Name
    labels: list[str] = Field(min_length=2, max_length=1000)
    task_type: Literal["text_classification", "image_classification"] = "text_classification"


class ProjectSettingsUpdate(_Body):
    """Settings to change; fields left out keep their value."""

    strategy: str | None = Field(None, max_length=100)
    model: Literal["auto", "logreg", "committee", "mc_dropout"] | None = None
    features: Literal["auto", "minilm", "hashed"] | None = None
    batch_size: int | None = Field(None, ge=1, le=100_000)
    diversity: Literal["auto", "on", "off"] | None = None
    lookahead: int | None = Field(None, ge=0, le=1_000)
    overlap: int | None = Field(None, ge=1, le=100)
    gold_fraction: float | None = Field(None, ge=0, lt=1, allow_inf_nan=False)
    gold_threshold: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    retrain_every: int | None = Field(None, ge=1, le=1_000_000)
    budget: int | None = Field(None, ge=0, le=10**12)
    target_accuracy: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    stop_kappa: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    max_uncertainty: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    lease_seconds: float | None = Field(None, gt=0, le=86_400 * 7, allow_inf_nan=False)


class StrategyPublic(BaseModel):
    """A registered strategy, what it needs, and the service model that runs it."""

    name: str
    needs: list[str]
    model: str | None  # the model ``auto`` picks; None: no service model serves it here
    why_not: str | None = None


class ProjectSettingsPublic(BaseModel):
    overlap: int
    budget: int | None
    loop: dict[str, Any]


class AnnotatorCreate(_Body):
    name: str = Name
    role: Literal["annotator", "reviewer", "admin"] = "annotator"


class AnnotatorInvited(BaseModel):
    """A new annotator and their token: shown this once, stored only as a hash."""

    name: str
    role: str
    project: str
    token: str


class RoundPublic(BaseModel):
    number: int
    strategy: str
    n_labeled: int
    queued: int
    eval_accuracy: float | None
    stopped: bool
    stop_reason: str | None


class DashboardPublic(BaseModel):
    project: str
    curve: list[dict[str, Any]]
    class_balance: dict[str, int]
    annotations_by_annotator: dict[str, int]
    agreement_by_annotator: dict[str, float | None]
    agreement_by_class: dict[str, float | None]
    fleiss_kappa: float | None
    gold: dict[str, dict[str, Any]]
    budget: int | None
    budget_used: int
    stop_reason: str | None
    by_state: dict[str, int]
    retrain_error: str | None = None


class ErrorPublic(BaseModel):
    """Every 4xx: what was wrong (a sentence, or the list of invalid fields)."""

    detail: str | list[dict[str, Any]]


#: The error answers every API route may give, documented in the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorPublic, "description": text}
    for code, text in (
        (400, "a body that cannot be parsed"),
        (401, "no token, or an unknown one"),
        (403, "an admin's token is needed"),
        (404, "no such project or task for this token"),
        (409, "the request conflicts with the store: lease not held or expired, answered"),
        (413, "a request body larger than the server accepts"),
        (422, "a malformed request, or a label outside the label space"),
        (429, "too many unknown tokens from this address: wait Retry-After seconds"),
    )
}


# --- the annotator's view of the model, the lead's overview, review and browsing ------------


class ModelStatusPublic(BaseModel):
    """The model annotators work with: its round, when it was trained, its eval accuracy."""

    project: str
    round: int | None  # the round whose model suggests answers; None before any model
    trained_at: UtcDateTime | None
    seconds_ago: float | None
    eval_accuracy: float | None
    retrain_every: int
    show_suggestion: bool  # the project's setting: show the model's suggestion with each task


class CriterionPublic(BaseModel):
    """A stopping criterion's current value against its threshold, in words."""

    name: str
    current: float | None
    threshold: float | None
    met: bool
    text: str


class OverviewPublic(BaseModel):
    """The lead's first screen: labels, budget, accuracy and its trend, stopping guidance."""

    project: str
    labels: int  # pool samples labeled by annotators
    annotations: int
    budget: int | None
    budget_used: int
    rounds: int
    eval_accuracy: float | None
    accuracy_change: float | None  # over the last rounds, in accuracy units (0..1)
    trend_labels: int
    criteria: list[CriterionPublic]
    sentence: str
    stopped: bool
    stop_reason: str | None
    relabeled: int = 0  # times relabeling gave an uncertain label one more annotator


class ProjectSettingsChange(ProjectSettingsUpdate):
    """Settings to change, with the annotator page's ``show_suggestion`` (anchoring) and the
    review queue's ``review_confidence`` (an answer against a suggestion at least this
    confident goes to review)."""

    show_suggestion: bool | None = None
    review_confidence: float | None = Field(None, ge=0.5, le=1, allow_inf_nan=False)
    #: Relabeling (:mod:`labelwise.store.relabel`): one more annotator for a sample whose
    #: label's agreement is under this (null: off), up to ``max_annotators`` (null: overlap + 1).
    relabel_below: float | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    max_annotators: int | None = Field(None, ge=2, le=100)


class ProjectSettingsView(ProjectSettingsPublic):
    show_suggestion: bool = True
    review_confidence: float = 0.9
    relabel_below: float | None = None
    max_annotators: int | None = None


class AcceptanceRowPublic(BaseModel):
    """Answers given after a suggestion (``n``), how many took it, and the share."""

    key: str  # the annotator, or the suggested class
    n: int
    accepted: int
    rate: float
    rubber_stamping: bool | None = None  # annotators only


class AcceptancePublic(BaseModel):
    """Suggestion acceptance per annotator and per suggested class, against the model's
    accuracy on the eval split."""

    project: str
    model_accuracy: float | None
    margin: float
    min_answers: int
    explanation: str
    annotators: list[AcceptanceRowPublic]
    classes: list[AcceptanceRowPublic]


class SampleAnswerPublic(BaseModel):
    annotator: str
    label: str
    created_at: UtcDateTime
    seconds_spent: float | None


class SampleGuessPublic(BaseModel):
    label: str
    probability: float | None  # None for a number project's guess
    round: int


class WhyPublic(BaseModel):
    """Why the sample was queued: the first round that queued it and its score there."""

    round: int
    strategy: str
    model_version: str | None
    score: float | None


class SamplePublic(BaseModel):
    """A sample as the lead sees it: its label (and how it was made) and every standing answer."""

    sample_id: int
    external_id: str
    text: str | None
    image_url: str | None
    split: str
    state: str
    label: str | None
    method: str | None
    agreement: float | None
    answers: list[SampleAnswerPublic]
    guess: SampleGuessPublic | None = None
    why: WhyPublic | None = None


class SamplePagePublic(BaseModel):
    total: int
    samples: list[SamplePublic]


class ResolutionCreate(_Body):
    """The reviewer's final answer for a sample in the project's answer kind: a label, a
    number, or the JSON text of a list of labels or of ``[start, end, label]`` spans."""

    label: str = Field(min_length=1, max_length=100_000)


class ReviewReasonPublic(BaseModel):
    """Why a sample is in the review queue: an answer against the suggestion, Dawid-Skene's
    label or the gold label (``expected``), or a disagreement between answers."""

    kind: Literal["disagreement", "confident_model", "dawid_skene", "gold_failed"]
    annotator: str | None
    answer: str | None
    expected: str | None
    confidence: float | None


class ReviewItemPublic(BaseModel):
    sample: SamplePublic
    reasons: list[ReviewReasonPublic]


class GoldReviewPublic(BaseModel):
    """A reviewed gold question: its gold label now, and whether the review changed it."""

    sample_id: int
    gold_label: str
    corrected: bool
