"""On PostgreSQL, a model record's model and experiment are no longer foreign keys: an insert locks each
model and experiment it names once (``FOR KEY SHARE``, what a key check takes), and a deletion locks its
model or experiment first, where the foreign keys' triggers checked and locked them once per row, a
third of a bulk insert's time. SQLite keeps them (checked in process). A downgrade adds them back.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint("model_records_model_id_fkey", "model_records", type_="foreignkey")
    op.drop_constraint("model_records_experiment_id_fkey", "model_records", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_foreign_key(
        "model_records_model_id_fkey", "model_records", "models", ["model_id"], ["id"], ondelete="CASCADE"
    )
    op.create_foreign_key("model_records_experiment_id_fkey", "model_records", "experiments", ["experiment_id"], ["id"])
