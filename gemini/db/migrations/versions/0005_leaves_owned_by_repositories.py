"""SQLite: the (path, value) rows have one owner, the repositories, on insert, update and delete.

The update and delete triggers of revision 0002 go. Rows they wrote under their own rule are brought to
the repositories' rule: integral reals are kept as integers, numbers of magnitude 2**53 or more are not
kept, nor are values under a key holding ``]``, a double quote, a backslash or a control character
(spelled with a backslash or ``]`` in the path).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The triggers as revision 0002 made them, for the downgrade.
_LEAF_FILTER = (
    "((type = 'text' AND length(atom) <= 128) OR type = 'integer' "
    "OR (type = 'real' AND atom = CAST(atom AS INTEGER))) "
    "AND fullkey NOT GLOB '*[[]*'"
)
_LEAVES = f"SELECT fullkey, atom, {{run}}.id FROM json_tree({{run}}.model_run_info) WHERE {_LEAF_FILTER}"
_TRIGGERS = [
    f"""CREATE TRIGGER model_runs_info_values_update AFTER UPDATE OF model_run_info ON model_runs BEGIN
        DELETE FROM model_run_info_values WHERE (path, value, run_id) IN ({_LEAVES.format(run="OLD")});
        INSERT OR IGNORE INTO model_run_info_values (path, value, run_id) {_LEAVES.format(run="NEW")};
    END""",
    f"""CREATE TRIGGER model_runs_info_values_delete AFTER DELETE ON model_runs BEGIN
        DELETE FROM model_run_info_values WHERE (path, value, run_id) IN ({_LEAVES.format(run="OLD")});
    END""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS model_runs_info_values_update")
    op.execute("DROP TRIGGER IF EXISTS model_runs_info_values_delete")
    op.execute(
        "DELETE FROM model_run_info_values WHERE typeof(value) IN ('integer', 'real') "
        "AND abs(value) >= 9007199254740992"
    )
    op.execute(
        "DELETE FROM model_run_info_values WHERE path GLOB '*[]\\]*' "
        "OR path GLOB '*[' || char(1) || '-' || char(31) || ']*'"
    )
    op.execute("UPDATE OR IGNORE model_run_info_values SET value = CAST(value AS INTEGER) WHERE typeof(value) = 'real'")
    op.execute("DELETE FROM model_run_info_values WHERE typeof(value) = 'real'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in _TRIGGERS:
        op.execute(statement)
