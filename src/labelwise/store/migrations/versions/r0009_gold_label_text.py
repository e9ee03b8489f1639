"""A gold label as long as an answer: ``sample.gold_label`` becomes ``Text``.

A spans project's gold document is a JSON array of ``[start, end, label]`` spans like its
answers, which became ``Text`` in 0006; the gold label kept the 200 characters a class name
needs, so a gold document with a dozen entities was refused by PostgreSQL. SQLite rebuilds the
table (batch mode).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sample", schema=None) as batch_op:
        batch_op.alter_column(
            "gold_label", existing_type=sa.String(length=200), type_=sa.Text(), nullable=True
        )


def downgrade() -> None:
    """Back to 0008: refused while a gold label is longer than 200 characters."""
    bind = op.get_bind()
    longest = bind.execute(sa.text("SELECT max(length(gold_label)) FROM sample")).scalar()
    if longest is not None and int(longest) > 200:
        raise RuntimeError("downgrade below 0009: a gold label is longer than 200 characters")
    with op.batch_alter_table("sample", schema=None) as batch_op:
        batch_op.alter_column(
            "gold_label", existing_type=sa.Text(), type_=sa.String(length=200), nullable=True
        )
