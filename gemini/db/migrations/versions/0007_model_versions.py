"""Model versions and aliases: numbered versions of a model, each pinning one run artifact's bytes, and
the aliases (``production``) that name one version of a model at a time.

Two new tables, and a counter on each model of the version numbers it has given (0 for every existing
model: none has versions yet), so an existing database upgrades without touching its rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("models", sa.Column("last_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("model_id", sa.Uuid(), sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model_run_id", sa.Uuid(), sa.ForeignKey("model_runs.id"), nullable=False),
        sa.Column("artifact_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("version_info", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.UniqueConstraint("model_id", "version", name="uq_model_versions_model_id_version"),
    )
    op.create_index("ix_model_versions_model_run_id", "model_versions", ["model_run_id"])
    op.create_index("ix_model_versions_sha256", "model_versions", ["sha256"])
    op.create_table(
        "model_version_aliases",
        sa.Column("model_id", sa.Uuid(), sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("alias", sa.String(64), primary_key=True),
        sa.Column("version_id", sa.Uuid(), sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_model_version_aliases_version_id", "model_version_aliases", ["version_id"])


def downgrade() -> None:
    op.drop_table("model_version_aliases")
    op.drop_table("model_versions")
    op.drop_column("models", "last_version")
