"""Tabular projects, and the computed features of samples stored once.

A third task type, ``tabular_classification``, whose samples carry their numeric columns in
``meta`` (the JSON column an import already fills with every column that is not ``id``,
``text``, ``image``, ``label`` or ``split``); a sample's payload is therefore its text, its
image URI or its columns. Two new tables hold features computed for the loop's model:
``feature_set`` (per project and kind of features: the width and the parameters they were made
with, such as a tabular project's pool mean and std) and ``sample_feature`` (one
little-endian float32 vector per sample and kind). SQLite rebuilds ``project`` and ``sample``
to change their CHECK constraints (batch mode; :func:`labelwise.store.engine.init_store` runs
migrations on SQLite with foreign keys off and checks them before the commit).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TASK_TYPES_OLD = "task_type IN ('text_classification', 'image_classification')"
_TASK_TYPES_NEW = (
    "task_type IN ('text_classification', 'image_classification', 'tabular_classification')"
)
_PAYLOAD_OLD = "text IS NOT NULL OR uri IS NOT NULL"
_PAYLOAD_NEW = "text IS NOT NULL OR uri IS NOT NULL OR meta IS NOT NULL"


def _replace_check(table: str, name: str, condition: str) -> None:
    """Give the CHECK constraint ``ck_<table>_<name>`` a new condition."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), sa.text(condition))


def upgrade() -> None:
    _replace_check("project", "task_type", _TASK_TYPES_NEW)
    _replace_check("sample", "has_payload", _PAYLOAD_NEW)
    op.create_table(
        "feature_set",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_feature_set_project_id_project")
        ),
        sa.PrimaryKeyConstraint("project_id", "kind", name=op.f("pk_feature_set")),
    )
    op.create_table(
        "sample_feature",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("sample_id", _ID, nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id", "kind"],
            ["feature_set.project_id", "feature_set.kind"],
            name=op.f("fk_sample_feature_project_id_feature_set"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_sample_feature_project_id_project")
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["sample.id"], name=op.f("fk_sample_feature_sample_id_sample")
        ),
        sa.PrimaryKeyConstraint("project_id", "kind", "sample_id", name=op.f("pk_sample_feature")),
    )


def downgrade() -> None:
    op.drop_table("sample_feature")
    op.drop_table("feature_set")
    _replace_check("sample", "has_payload", _PAYLOAD_OLD)
    _replace_check("project", "task_type", _TASK_TYPES_OLD)
