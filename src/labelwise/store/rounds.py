"""Rounds of active learning: what strategy and model chose, with every score kept.

``record_round`` stores the round, the score of every sample the strategy scored and, by
default, a dataset version of the labeled set the round's model was trained on, all in one
transaction, with the round's fitted model as bytes when the caller gives them
(:mod:`labelwise.store.round_models`). ``why_chosen`` answers "why was this sample chosen?"
from those scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from labelwise.store import _audit
from labelwise.store.engine import Store, utcnow
from labelwise.store.errors import NotFoundError, StoreError
from labelwise.store.projects import project_row
from labelwise.store.round_models import MODELS_KEPT, ModelBlob, keep_round_model
from labelwise.store.schema import DatasetVersion, Round, Sample, Score, Task
from labelwise.store.versions import snapshot

__all__ = ["RoundInfo", "ScoreRecord", "list_rounds", "record_round", "why_chosen"]

_BATCH = 20_000


@dataclass(frozen=True)
class RoundInfo:
    number: int
    strategy: str
    model_version: str | None
    batch_size: int
    metrics: Mapping[str, Any]
    created_at: datetime
    version_number: int | None


@dataclass(frozen=True)
class ScoreRecord:
    """A sample's score in one round, and whether that round queued it."""

    round_number: int
    strategy: str
    model_version: str | None
    score: float
    selected: bool


def record_round(
    store: Store,
    project: str,
    strategy: str,
    *,
    model_version: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    sample_ids: Sequence[int] = (),
    scores: Sequence[float] = (),
    batch_size: int = 0,
    create_version: bool = True,
    model: ModelBlob | None = None,
    keep_models: int = MODELS_KEPT,
    actor: str = "labelwise",
) -> RoundInfo:
    """Record a round: strategy, model version, metrics and the scores of the pool.

    Parameters
    ----------
    strategy : str
        The registry name of the strategy that scored the pool.
    metrics : mapping, optional
        JSON-able evaluation figures of the round's model (accuracy on eval...).
    sample_ids, scores : sequences of equal length
        Store ids of the scored samples and their acquisition scores.
    batch_size : int
        How many samples the round asks to label.
    create_version : bool
        Also snapshot the labeled set as a dataset version tied to this round.
    model : ModelBlob, optional
        The round's fitted model as bytes, kept with the round for processes that did not
        train it; the project's models older than the newest ``keep_models`` are dropped.
    """
    ids = [int(i) for i in sample_ids]
    values = [float(s) for s in scores]
    if len(ids) != len(values):
        raise StoreError(f"{len(ids)} sample ids but {len(values)} scores")
    if not all(math.isfinite(v) for v in values):
        raise StoreError("scores must be finite numbers")
    if batch_size < 0:
        raise StoreError(f"batch_size must be non-negative, got {batch_size}")
    with store.write() as session:
        row = project_row(session, project, lock=True)
        number = (
            session.scalar(select(func.max(Round.number)).where(Round.project_id == row.id)) or 0
        ) + 1
        round_row = Round(
            project_id=row.id,
            number=number,
            strategy=strategy,
            model_version=model_version,
            batch_size=batch_size,
            metrics=dict(metrics or {}),
            created_at=utcnow(),
        )
        session.add(round_row)
        session.flush()
        try:
            for start in range(0, len(ids), _BATCH):
                session.execute(
                    insert(Score),
                    [
                        {"round_id": round_row.id, "sample_id": i, "value": v}
                        for i, v in zip(
                            ids[start : start + _BATCH], values[start : start + _BATCH], strict=True
                        )
                    ],
                )
        except IntegrityError as exc:
            raise StoreError("scores name a sample twice or a sample not in the store") from exc
        foreign = session.scalar(
            select(func.count())
            .select_from(Score)
            .join(Sample, Sample.id == Score.sample_id)
            .where(Score.round_id == round_row.id, Sample.project_id != row.id)
        )
        if foreign:
            raise NotFoundError(f"{foreign} scored sample(s) are not in project {project!r}")
        version = snapshot(session, row.id, round_row.id, None) if create_version else None
        if model is not None:
            keep_round_model(session, row.id, number, model, keep_models)
        _audit.record(
            session,
            actor=actor,
            action="record_round",
            object_type="round",
            object_id=round_row.id,
            project_id=row.id,
            detail={
                "number": number,
                "strategy": strategy,
                "scores": len(ids),
                "model_bytes": None if model is None else len(model.data),
            },
        )
        return RoundInfo(
            number,
            strategy,
            model_version,
            batch_size,
            round_row.metrics,
            round_row.created_at,
            None if version is None else version.number,
        )


def list_rounds(store: Store, project: str) -> list[RoundInfo]:
    """Every round of the project, oldest first."""
    with store.read() as session:
        row = project_row(session, project)
        rounds = session.execute(
            select(Round, DatasetVersion.number)
            .outerjoin(DatasetVersion, DatasetVersion.round_id == Round.id)
            .where(Round.project_id == row.id)
            .order_by(Round.number)
        )
        return [
            RoundInfo(
                r.number, r.strategy, r.model_version, r.batch_size, r.metrics, r.created_at, v
            )
            for r, v in rounds
        ]


def why_chosen(store: Store, project: str, external_id: str) -> list[ScoreRecord]:
    """The sample's score in every round that scored it, and whether the round queued it."""
    with store.read() as session:
        row = project_row(session, project)
        sample_id = session.scalar(
            select(Sample.id).where(Sample.project_id == row.id, Sample.external_id == external_id)
        )
        if sample_id is None:
            raise NotFoundError(f"no sample {external_id!r} in project {project!r}")
        queued = exists().where(Task.sample_id == sample_id, Task.round_id == Round.id)
        found = session.execute(
            select(Round.number, Round.strategy, Round.model_version, Score.value, queued)
            .join(Score, Score.round_id == Round.id)
            .where(Score.sample_id == sample_id)
            .order_by(Round.number)
        )
        return [ScoreRecord(n, s, m, float(v), bool(q)) for n, s, m, v, q in found]
