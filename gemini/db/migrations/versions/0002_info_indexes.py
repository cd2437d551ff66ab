"""Info indexes: SQLite's (path, value) table kept by triggers, and the declared hot keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from gemini.db import info_index

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        info_index.HOT_KEYS_TABLE,
        sa.Column("path", sa.Text(), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in info_index.SQLITE_VALUES_DDL:
            op.execute(statement)
    else:  # unused there (the GIN index serves equality); present so that both schemas are one
        op.create_table(
            info_index.VALUES_TABLE,
            sa.Column("path", sa.Text(), primary_key=True),
            sa.Column("value", sa.Text(), primary_key=True),
            sa.Column("run_id", sa.Uuid(), primary_key=True),
        )


def downgrade() -> None:
    bind = op.get_bind()
    for keys, _name, _created in info_index.list_hot_keys(bind):
        info_index.drop_hot_key(bind, keys)
    if bind.dialect.name == "sqlite":
        for statement in info_index.SQLITE_VALUES_DROP:
            op.execute(statement)
    else:
        op.drop_table(info_index.VALUES_TABLE)
    op.drop_table(info_index.HOT_KEYS_TABLE)
