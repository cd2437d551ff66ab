"""Info indexes: SQLite's (path, value) table kept by triggers, and the declared hot keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HOT_KEYS_TABLE = "info_hot_keys"
VALUES_TABLE = "model_run_info_values"

# The statements as this revision made them (later revisions change them; this one stays as it was).
_LEAF_FILTER = (
    "((type = 'text' AND length(atom) <= 128) OR type = 'integer' "
    "OR (type = 'real' AND atom = CAST(atom AS INTEGER))) "
    "AND fullkey NOT GLOB '*[[]*'"
)
_LEAVES = f"SELECT fullkey, atom, {{run}}.id FROM json_tree({{run}}.model_run_info) WHERE {_LEAF_FILTER}"
SQLITE_VALUES_DDL = [
    "CREATE TABLE model_run_info_values (path TEXT NOT NULL, value NOT NULL, run_id CHAR(32) NOT NULL, "
    "PRIMARY KEY (path, value, run_id)) WITHOUT ROWID",
    f"""CREATE TRIGGER model_runs_info_values_insert AFTER INSERT ON model_runs BEGIN
        INSERT OR IGNORE INTO model_run_info_values (path, value, run_id) {_LEAVES.format(run="NEW")};
    END""",
    f"""CREATE TRIGGER model_runs_info_values_update AFTER UPDATE OF model_run_info ON model_runs BEGIN
        DELETE FROM model_run_info_values WHERE (path, value, run_id) IN ({_LEAVES.format(run="OLD")});
        INSERT OR IGNORE INTO model_run_info_values (path, value, run_id) {_LEAVES.format(run="NEW")};
    END""",
    f"""CREATE TRIGGER model_runs_info_values_delete AFTER DELETE ON model_runs BEGIN
        DELETE FROM model_run_info_values WHERE (path, value, run_id) IN ({_LEAVES.format(run="OLD")});
    END""",
    f"""INSERT OR IGNORE INTO model_run_info_values (path, value, run_id)
        SELECT fullkey, atom, model_runs.id FROM model_runs, json_tree(model_runs.model_run_info)
        WHERE {_LEAF_FILTER}""",
]
SQLITE_VALUES_DROP = [
    "DROP TRIGGER IF EXISTS model_runs_info_values_insert",
    "DROP TRIGGER IF EXISTS model_runs_info_values_update",
    "DROP TRIGGER IF EXISTS model_runs_info_values_delete",
    "DROP TABLE IF EXISTS model_run_info_values",
]


def upgrade() -> None:
    op.create_table(
        HOT_KEYS_TABLE,
        sa.Column("path", sa.Text(), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_VALUES_DDL:
            op.execute(statement)
    else:  # unused there (the GIN index serves equality); present so that both schemas are one
        op.create_table(
            VALUES_TABLE,
            sa.Column("path", sa.Text(), primary_key=True),
            sa.Column("value", sa.Text(), primary_key=True),
            sa.Column("run_id", sa.Uuid(), primary_key=True),
        )


def downgrade() -> None:
    bind = op.get_bind()
    # The declared hot keys' indexes (and SQLite's generated columns) go with the table declaring them.
    for (name,) in bind.exec_driver_sql(f"SELECT name FROM {HOT_KEYS_TABLE}").all():
        op.execute(f'DROP INDEX IF EXISTS "ix_model_runs_{name}"')
        if bind.dialect.name == "sqlite":
            op.execute(f'ALTER TABLE model_runs DROP COLUMN "{name}"')
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_VALUES_DROP:
            op.execute(statement)
    else:
        op.drop_table(VALUES_TABLE)
    op.drop_table(HOT_KEYS_TABLE)
