"""Runs have a readable name (``run_name``): nullable, so the runs already stored keep none, with an index
over the runs that have one. A downgrade drops the names.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("model_runs", sa.Column("run_name", sa.Text(), nullable=True))
    op.create_index(
        "ix_model_runs_run_name",
        "model_runs",
        ["run_name"],
        sqlite_where=sa.text("run_name IS NOT NULL"),
        postgresql_where=sa.text("run_name IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_model_runs_run_name", table_name="model_runs")
    op.drop_column("model_runs", "run_name")
