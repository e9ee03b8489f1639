"""Regression and multi-label projects: the project's ``answer_kind``.

The task type says what a sample *is* (text, image, table row) and drives the features; what
an annotator *answers* is a separate, orthogonal property, so it gets its own column instead of
multiplying the task types (``text_regression``, ``tabular_multilabel``...): ``answer_kind``
is ``label`` (one label of the label space: every project before this revision), ``number``
(a regression target, checked against the bounds and step kept in the project's settings under
``"answer"``) or ``labels`` (a set of labels of the label space). Answers keep their one
string column, so annotations stay append-only and retraction works unchanged: a number is
stored as its shortest decimal text (``"3.5"``) and a set as a JSON array in label-space order
(``'["a","c"]'``); :mod:`labelwise.store.answers` encodes and decodes them. SQLite rebuilds
``project`` to add the CHECK constraint (batch mode).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_KINDS = "answer_kind IN ('label', 'number', 'labels')"


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("answer_kind", sa.String(length=10), server_default="label", nullable=False)
        )
        batch_op.create_check_constraint(op.f("ck_project_answer_kind"), sa.text(_KINDS))


def downgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_project_answer_kind"), type_="check")
        batch_op.drop_column("answer_kind")
