"""Initial schema: experiments, models, their association, and model runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("experiment_name", sa.Text(), nullable=False, unique=True),
        sa.Column("experiment_info", sa.JSON(), nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("model_name", sa.Text(), nullable=False, unique=True),
        sa.Column("model_url", sa.Text(), nullable=True),
        sa.Column("model_info", sa.JSON(), nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "model_experiments",
        sa.Column("model_id", sa.Uuid(), sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "experiment_id", sa.Uuid(), sa.ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_model_experiments_experiment_id", "model_experiments", ["experiment_id"])
    op.create_table(
        "model_runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("model_id", sa.Uuid(), sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=True),
        sa.Column("model_run_info", sa.JSON(), nullable=False),
        sa.Column("info_hash", sa.String(64), nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_model_runs_model_id", "model_runs", ["model_id"])
    op.create_index("ix_model_runs_info_hash", "model_runs", ["info_hash"])
    op.create_index(
        "uq_model_runs_model_id_info_hash",
        "model_runs",
        ["model_id", "info_hash"],
        unique=True,
        sqlite_where=sa.text("model_id IS NOT NULL"),
        postgresql_where=sa.text("model_id IS NOT NULL"),
    )
    op.create_index(
        "uq_model_runs_unassigned_info_hash",
        "model_runs",
        ["info_hash"],
        unique=True,
        sqlite_where=sa.text("model_id IS NULL"),
        postgresql_where=sa.text("model_id IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Serves containment (@>) over run info; jsonb_path_ops is the smaller, faster operator class.
        op.execute(
            "CREATE INDEX ix_model_runs_info_gin ON model_runs USING gin ((model_run_info::jsonb) jsonb_path_ops)"
        )


def downgrade() -> None:
    op.drop_table("model_runs")
    op.drop_table("model_experiments")
    op.drop_table("models")
    op.drop_table("experiments")
