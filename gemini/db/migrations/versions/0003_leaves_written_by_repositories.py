"""SQLite: new runs' (path, value) rows are written by the repositories, not by an insert trigger.

The repositories already hold each new run's info and write the same rows, so the trigger that walked
the stored JSON again is dropped. The rows already in the table are the same either way, so nothing is
rebuilt. The update and delete triggers stay.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_LEAF_FILTER = (
    "((type = 'text' AND length(atom) <= 128) OR type = 'integer' "
    "OR (type = 'real' AND atom = CAST(atom AS INTEGER))) "
    "AND fullkey NOT GLOB '*[[]*'"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS model_runs_info_values_insert")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER model_runs_info_values_insert AFTER INSERT ON model_runs BEGIN "
            "INSERT OR IGNORE INTO model_run_info_values (path, value, run_id) "
            f"SELECT fullkey, atom, NEW.id FROM json_tree(NEW.model_run_info) WHERE {_LEAF_FILTER}; END"
        )
        # Runs inserted while the trigger was gone got their rows from the repositories: nothing to add.
