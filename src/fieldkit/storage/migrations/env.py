"""Alembic environment: always run over the vault's keyed connection, never from a URL."""

from __future__ import annotations

from alembic import context

from fieldkit.storage import tables  # noqa: F401  (registers every table on Base.metadata)
from fieldkit.storage.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("fieldkit migrations run only over an unlocked profile's connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
