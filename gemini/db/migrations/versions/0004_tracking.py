"""Tracked runs: lifecycle columns, metric points and summaries, artifacts; API tokens and authors.

Runs recorded before this revision keep a NULL status: they are identified by their info as before.
The unique indexes on (model, info) now cover only those runs, so that two tracked executions of one
configuration are two runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_RUN_COLUMNS = [
    sa.Column("status", sa.String(16), nullable=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("error_type", sa.Text(), nullable=True),
    sa.Column("error_message", sa.Text(), nullable=True),
    sa.Column("created_by", sa.Text(), nullable=True),
]


def _unique_info_indexes(predicate_suffix: str) -> None:
    op.create_index(
        "uq_model_runs_model_id_info_hash",
        "model_runs",
        ["model_id", "info_hash"],
        unique=True,
        sqlite_where=sa.text(f"model_id IS NOT NULL{predicate_suffix}"),
        postgresql_where=sa.text(f"model_id IS NOT NULL{predicate_suffix}"),
    )
    op.create_index(
        "uq_model_runs_unassigned_info_hash",
        "model_runs",
        ["info_hash"],
        unique=True,
        sqlite_where=sa.text(f"model_id IS NULL{predicate_suffix}"),
        postgresql_where=sa.text(f"model_id IS NULL{predicate_suffix}"),
    )


def _drop_unique_info_indexes() -> None:
    op.drop_index("uq_model_runs_model_id_info_hash", table_name="model_runs")
    op.drop_index("uq_model_runs_unassigned_info_hash", table_name="model_runs")


def _run_id() -> sa.Column:
    return sa.Column("run_id", sa.Uuid(), sa.ForeignKey("model_runs.id", ondelete="CASCADE"), primary_key=True)


def upgrade() -> None:
    for column in _RUN_COLUMNS:
        op.add_column("model_runs", column)
    op.add_column("models", sa.Column("created_by", sa.Text(), nullable=True))
    _drop_unique_info_indexes()
    _unique_info_indexes(" AND status IS NULL")
    op.create_index("ix_model_runs_status", "model_runs", ["status"])
    op.create_index("ix_model_runs_started_at", "model_runs", ["started_at"])

    op.create_table(
        "run_metrics",
        _run_id(),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("step", sa.BigInteger(), primary_key=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "run_metric_batches",
        _run_id(),
        sa.Column("batch_id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "run_metric_summaries",
        _run_id(),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("last_value", sa.Double(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("min_value", sa.Double(), nullable=True),
        sa.Column("max_value", sa.Double(), nullable=True),
        sa.Column("value_count", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    for bound in ("last", "min", "max"):
        op.create_index(
            f"ix_run_metric_summaries_key_{bound}", "run_metric_summaries", ["key", f"{bound}_value"]
        )
    op.create_table(
        "run_artifacts",
        _run_id(),
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_run_artifacts_sha256", "run_artifacts", ["sha256"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    for table in ("api_tokens", "run_artifacts", "run_metric_summaries", "run_metric_batches", "run_metrics"):
        op.drop_table(table)
    # Tracked runs were outside the (model, info) identity; only the first of each identity can stay.
    op.execute(
        "DELETE FROM model_runs WHERE status IS NOT NULL AND EXISTS (SELECT 1 FROM model_runs AS other "
        "WHERE other.info_hash = model_runs.info_hash "
        "AND (other.model_id = model_runs.model_id OR (other.model_id IS NULL AND model_runs.model_id IS NULL)) "
        "AND (other.status IS NULL OR other.id < model_runs.id))"
    )
    op.drop_index("ix_model_runs_started_at", table_name="model_runs")
    op.drop_index("ix_model_runs_status", table_name="model_runs")
    _drop_unique_info_indexes()
    _unique_info_indexes("")
    op.drop_column("models", "created_by")
    for column in reversed(_RUN_COLUMNS):
        op.drop_column("model_runs", column.name)
