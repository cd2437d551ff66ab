"""Alembic environment: always handed an open connection by ``gemini.db.migrations``."""

from alembic import context

from gemini.db.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through gemini.db.migrations.upgrade_to_head or `gemini db upgrade`")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
