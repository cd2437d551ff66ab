"""Model records: GEMINI's per-plot model outputs, with the datasets, seasons and sites that tag them.

Four new tables; nothing existing changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ENTITIES = (("datasets", "dataset"), ("seasons", "season"), ("sites", "site"))


def upgrade() -> None:
    for table_name, prefix in _ENTITIES:
        op.create_table(
            table_name,
            sa.Column("id", sa.Uuid(), primary_key=True),
            sa.Column(f"{prefix}_name", sa.Text(), nullable=False, unique=True),
            sa.Column(f"{prefix}_info", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )
    op.create_table(
        "model_records",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("model_id", sa.Uuid(), sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collection_date", sa.Date(), nullable=True),
        sa.Column("dataset_id", sa.Uuid(), nullable=True),  # no key check: datasets are never deleted
        sa.Column("experiment_id", sa.Uuid(), sa.ForeignKey("experiments.id"), nullable=True),
        sa.Column("season_id", sa.Uuid(), nullable=True),  # nor seasons and sites
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("model_data", sa.JSON(), nullable=False),
        sa.Column("record_info", sa.JSON(), nullable=False),
        sa.Column("record_file", sa.Text(), nullable=True),
        sa.Column("file_sha256", sa.String(64), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("model_run_id", sa.Uuid(), sa.ForeignKey("model_runs.id"), nullable=True),
        sa.Column("model_version_id", sa.Uuid(), sa.ForeignKey("model_versions.id"), nullable=True),
        sa.Column("identity", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_model_records_model_place_time",
        "model_records",
        ["model_id", "experiment_id", "season_id", "site_id", "timestamp"],
    )
    op.create_index(
        "ix_model_records_place_time", "model_records", ["experiment_id", "season_id", "site_id", "timestamp"]
    )
    op.create_index("ix_model_records_dataset_time", "model_records", ["dataset_id", "timestamp"])
    op.create_index("ix_model_records_timestamp", "model_records", ["timestamp"])
    for column in ("model_run_id", "model_version_id", "file_sha256"):
        op.create_index(
            f"ix_model_records_{column}",
            "model_records",
            [column],
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    if op.get_bind().dialect.name == "postgresql":
        # Containment (@>) over a record's output and info, as for run info.
        for column in ("model_data", "record_info"):
            op.execute(
                f"CREATE INDEX ix_model_records_{column}_gin ON model_records "
                f"USING gin (({column}::jsonb) jsonb_path_ops)"
            )


def downgrade() -> None:
    op.drop_table("model_records")
    for table_name, _prefix in reversed(_ENTITIES):
        op.drop_table(table_name)
