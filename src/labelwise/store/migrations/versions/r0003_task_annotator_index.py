"""An index on ``task (annotator_id, sample_id)``: the samples an annotator already holds.

"Next task" skips samples the annotator has a task on. Once PostgreSQL has statistics on
``task`` (autovacuum, or any ``ANALYZE``), its plan for that anti-join collects the annotator's
tasks first; without this index that is a scan of the whole table (200-340 ms per lease at
1,000,000 tasks), with it 0.1 ms.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_task_annotator_id_sample_id", "task", ["annotator_id", "sample_id"])


def downgrade() -> None:
    op.drop_index("ix_task_annotator_id_sample_id", table_name="task")
