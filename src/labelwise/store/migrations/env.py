"""Alembic environment: migrations run on the connection labelwise hands over."""

from __future__ import annotations

from alembic import context

from labelwise.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - labelwise always passes one
    raise RuntimeError("labelwise migrations run through labelwise.store.init_store")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
