"""Annotations are retracted, never deleted: ``retracted_at`` and ``retracted_by``.

An undone answer keeps its row, marked with when and by whom it was taken back; readers that
count answers or aggregate labels skip such rows. A task answered, undone and answered again
holds two annotation rows, so the unique constraint on ``task_id`` becomes a partial unique
index over the rows still standing (SQLite rebuilds the table for that, in batch mode).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 04:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_STANDING = "retracted_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retracted_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("retracted_by", _ID, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_annotation_retracted_by_annotator"), "annotator", ["retracted_by"], ["id"]
        )
        batch_op.drop_constraint(op.f("uq_annotation_task_id"), type_="unique")
    op.create_index(
        "ux_annotation_task_id_standing",
        "annotation",
        ["task_id"],
        unique=True,
        sqlite_where=sa.text(_STANDING),
        postgresql_where=sa.text(_STANDING),
    )


def downgrade() -> None:
    op.execute("DELETE FROM annotation WHERE retracted_at IS NOT NULL")
    op.drop_index("ux_annotation_task_id_standing", table_name="annotation")
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f("uq_annotation_task_id"), ["task_id"])
        batch_op.drop_constraint(op.f("fk_annotation_retracted_by_annotator"), type_="foreignkey")
        batch_op.drop_column("retracted_by")
        batch_op.drop_column("retracted_at")
