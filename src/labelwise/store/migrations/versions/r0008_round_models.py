"""The newest rounds' fitted models as bytes: table ``round_model``.

One row per round whose model was kept (its project and number, the format the bytes were
written in, the feature kind the model reads), written in the round's transaction, so that API
processes that do not train (``labelwise serve --workers N --trainer worker``) serve the
trainer's model; only the newest few per project are kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "round_model",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=400), nullable=False),
        sa.Column("features", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id", "round_number"],
            ["round.project_id", "round.number"],
            name=op.f("fk_round_model_project_id_round"),
        ),
        sa.PrimaryKeyConstraint("project_id", "round_number", name=op.f("pk_round_model")),
    )


def downgrade() -> None:
    op.drop_table("round_model")
