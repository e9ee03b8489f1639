"""Request and response bodies of Label Studio's ML-backend protocol (as 1.23 sends them).

Requests allow extra fields: Label Studio sends more than the backend reads (``hostname``,
``extra_params``, ``params.context`` ...), and a newer Label Studio may send more still.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SetupRequest(BaseModel):
    """``POST /setup``: ``project`` is ``"<id>.<created unix seconds>"``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    project: str | int
    label_schema: str = Field(alias="schema")
    hostname: str | None = ""
    access_token: str | None = ""


class SetupResponse(BaseModel):
    model_version: str


class PredictRequest(BaseModel):
    """``POST /predict``: full task objects, the project and its label config."""

    model_config = ConfigDict(extra="allow")

    tasks: list[dict[str, Any]]
    project: str | int
    label_config: str | None = None
    params: dict[str, Any] | None = None


class ChoicesValue(BaseModel):
    choices: list[str]


class ChoicesRegion(BaseModel):
    from_name: str
    to_name: str
    type: str
    value: ChoicesValue


class SpanValue(BaseModel):
    """A span of the task text: code-point offsets, the text they quote, its label."""

    start: int
    end: int
    text: str
    labels: list[str]


class SpanRegion(BaseModel):
    """A NER prediction region (``type: "labels"``) with the model's confidence in it."""

    id: str | None = None
    from_name: str
    to_name: str
    type: str
    value: SpanValue
    score: float


class Prediction(BaseModel):
    """One task's prediction: the choice (or a NER project's spans), the acquisition score
    (lowest first) and version."""

    result: list[ChoicesRegion | SpanRegion]
    score: float
    model_version: str


class PredictResponse(BaseModel):
    results: list[Prediction]


class TrainRequest(BaseModel):
    """``POST /train``: the project (id or object) and optionally its config."""

    model_config = ConfigDict(extra="allow")

    project: str | int | dict[str, Any]
    label_config: str | None = None


class HealthResponse(BaseModel):
    """``status`` UP, and per project (by Label Studio id) where its model stands: ``state``
    ``no_model`` (predictions carry no choice), ``training`` or ``ready``."""

    status: str
    model_class: str
    projects: dict[str, dict[str, Any]] = Field(default_factory=dict)


class VersionsResponse(BaseModel):
    versions: list[str]
    model_class: str
