"""NER span projects: answer kind ``spans`` and answer values as ``Text``.

A spans answer is a JSON array of ``[start, end, label]`` character offsets into the sample's
text (:mod:`labelwise.store.answers`); a long text with many entities does not fit the 200
characters the ``value`` columns had, so ``annotation.value``, ``label.value`` and
``dataset_version_member.value`` become ``Text`` (no length limit on either database), and the
project's CHECK constraint admits ``spans``. SQLite rebuilds the tables (batch mode).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_OLD_KINDS = "answer_kind IN ('label', 'number', 'labels')"
_KINDS = "answer_kind IN ('label', 'number', 'labels', 'spans')"
_VALUE_TABLES = ("annotation", "label", "dataset_version_member")


def _kinds(check: str) -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_project_answer_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_project_answer_kind"), sa.text(check))


def upgrade() -> None:
    _kinds(_KINDS)
    for table in _VALUE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "value", existing_type=sa.String(length=200), type_=sa.Text(), nullable=False
            )


def downgrade() -> None:
    """Back to 0005: refused while a spans project exists (its answers would not fit)."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM project WHERE answer_kind = 'spans'")).scalar():
        raise RuntimeError("downgrade below 0006: delete the spans projects first")
    for table in _VALUE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "value", existing_type=sa.Text(), type_=sa.String(length=200), nullable=False
            )
    _kinds(_OLD_KINDS)
