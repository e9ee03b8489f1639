"""Rounds' fitted models as bytes, for the processes that did not train them.

The round that fits a model keeps it with the round (:func:`labelwise.store.record_round`'s
``model``, written by :func:`keep_round_model` in the round's transaction), so an API process
that sees a round finds its model. Only the newest :data:`MODELS_KEPT` of a project are kept.
An API process asks for :func:`newest_model_round` (one indexed read, no bytes) and reads the
bytes with :func:`newest_round_model` only when the number is new to it. The store only moves
bytes: what they mean, and which formats a process reads, is
:mod:`labelwise.controller.published`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import StoreError
from labelwise.store.schema import Project, RoundModel

__all__ = [
    "MODELS_KEPT",
    "ModelBlob",
    "StoredRoundModel",
    "keep_round_model",
    "newest_model_round",
    "newest_round_model",
]

#: Models kept per project: the newest round's, and the one before it for a reader that
#: looked up the number just before a new round was recorded.
MODELS_KEPT = 2


@dataclass(frozen=True)
class ModelBlob:
    """A fitted model as bytes: ``data``, the ``format`` they were written in, and the
    feature kind the model reads (None where it reads no stored features)."""

    data: bytes
    format: str
    features: str | None = None


@dataclass(frozen=True)
class StoredRoundModel:
    """A round's model as the store keeps it."""

    round_number: int
    blob: ModelBlob
    created_at: datetime


def keep_round_model(
    session: Session, project_id: int, round_number: int, blob: ModelBlob, keep: int = MODELS_KEPT
) -> None:
    """Store ``blob`` as round ``round_number``'s model and drop the project's older models
    beyond the newest ``keep``, in the caller's transaction (the round's)."""
    if keep < 1:
        raise StoreError(f"keep at least one model per project, not {keep}")
    session.add(
        RoundModel(
            project_id=project_id,
            round_number=round_number,
            format=blob.format,
            features=blob.features,
            created_at=utcnow(),
            data=blob.data,
        )
    )
    session.flush()
    older = (
        select(RoundModel.round_number)
        .where(RoundModel.project_id == project_id)
        .order_by(RoundModel.round_number.desc())
        .offset(keep)
    )
    stale = list(session.scalars(older))
    if stale:
        session.execute(
            delete(RoundModel).where(
                RoundModel.project_id == project_id, RoundModel.round_number.in_(stale)
            )
        )


def newest_model_round(store: Store, project: str) -> int | None:
    """The number of the newest round of ``project`` whose model is stored; None if none is.

    One read of the primary key's index, without the bytes: cheap enough to ask often.
    """
    with store.read() as session:
        found: int | None = session.scalar(
            select(func.max(RoundModel.round_number))
            .join(Project, Project.id == RoundModel.project_id)
            .where(Project.name == project)
        )
        return found


def newest_round_model(store: Store, project: str) -> StoredRoundModel | None:
    """The newest stored model of ``project`` with its bytes; None if none is stored."""
    with store.read() as session:
        row = session.execute(
            select(RoundModel)
            .join(Project, Project.id == RoundModel.project_id)
            .where(Project.name == project)
            .order_by(RoundModel.round_number.desc())
            .limit(1)
        ).scalar_one_or_none()
        if row is None:
            return None
        return StoredRoundModel(
            row.round_number, ModelBlob(bytes(row.data), row.format, row.features), row.created_at
        )
