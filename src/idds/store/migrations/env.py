"""Alembic's environment: run the revisions on the connection `idds.store.migrate` passes."""

from __future__ import annotations

from alembic import context

from idds.store.model import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
