"""The model's suggestions as served with tasks: table ``suggestion`` (append-only).

Each row is one suggestion shown to one annotator on one task (its value, the model's
confidence, the round and model version that made it), so that suggestion acceptance is
counted from what annotators were shown, not recomputed from today's model.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "suggestion",
        sa.Column("id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("sample_id", _ID, nullable=False),
        sa.Column("annotator_id", _ID, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("round_number", sa.Integer(), nullable=True),
        sa.Column("model_version", sa.String(length=200), nullable=True),
        sa.Column("served_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["annotator.id"], name=op.f("fk_suggestion_annotator_id_annotator")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_suggestion_project_id_project")
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["sample.id"], name=op.f("fk_suggestion_sample_id_sample")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_suggestion_task_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion")),
    )
    op.create_index("ix_suggestion_task_id", "suggestion", ["task_id"])
    op.create_index(
        "ix_suggestion_project_id_annotator_id", "suggestion", ["project_id", "annotator_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_suggestion_project_id_annotator_id", table_name="suggestion")
    op.drop_index("ix_suggestion_task_id", table_name="suggestion")
    op.drop_table("suggestion")
