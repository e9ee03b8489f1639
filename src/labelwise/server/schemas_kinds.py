"""The admin API's bodies for answer kinds: a new project of any kind, the project's agreement.

(Beside :mod:`labelwise.server.schemas` while that module is being changed for span projects;
they belong there.)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from labelwise.server.schemas import Name, _Body

__all__ = ["AgreementPublic", "ProjectCreateAnyKind"]


class ProjectCreateAnyKind(_Body):
    """A new, empty project: a label (classification), a number (regression, with optional
    bounds and step) or a set of labels (multi-label) per sample."""

    name: str = Name
    labels: list[str] = Field(default_factory=list, max_length=1000)
    task_type: Literal["text_classification", "image_classification", "tabular_classification"] = (
        "text_classification"
    )
    answer_kind: Literal["label", "number", "labels"] = "label"
    min: float | None = None
    max: float | None = None
    step: float | None = None
    aggregation: Literal["median", "mean"] | None = None


class AgreementPublic(BaseModel):
    """The project-wide agreement of the standing answers (gold answers left out)."""

    answer_kind: str
    alpha: float | None  # None while undefined
    metric: str  # Krippendorff's alpha and its distance
    explanation: str  # one line: what the number says
    undefined_because: str | None = None
