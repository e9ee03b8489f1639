"""The audit trail: one row per change, written in the transaction that makes the change.

Each row is one Core ``INSERT`` sent at once (no unit-of-work bookkeeping on the hot path).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from labelwise.store.engine import utcnow
from labelwise.store.schema import Audit


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: object = None,
    project_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the session's transaction."""
    session.execute(
        insert(Audit).values(
            project_id=project_id,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            at=utcnow(),
            detail=detail,
        )
    )
