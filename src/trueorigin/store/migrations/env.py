"""Alembic environment: always run programmatically by `trueorigin.store.open_store` with a live connection."""

from __future__ import annotations

from alembic import context

from trueorigin.store import compliance as _compliance_tables  # noqa: F401  (registers its tables on Base)
from trueorigin.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI, which we do not ship
    raise RuntimeError("trueorigin migrations run through trueorigin.store.open_store(url)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
