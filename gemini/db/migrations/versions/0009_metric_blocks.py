"""Metric series kept in blocks of steps, their points packed in chunks (gemini.db.metric_blocks), for
history reads that do not go point by point: the points already stored move from ``run_metrics``, a row
each, into chunks, and their blocks are built; ``run_metrics`` goes. A downgrade brings the rows back.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_CHUNK = 65_536  # points of one series built at a time: a long series never sits whole in memory


def _point_columns(prefix: str) -> list[sa.Column]:
    return [
        sa.Column(f"{prefix}_step", sa.BigInteger(), nullable=True),
        sa.Column(f"{prefix}_value", sa.Double(), nullable=True),
        sa.Column(f"{prefix}_time", sa.Double(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "run_metric_blocks",
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("model_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("block", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("point_count", sa.BigInteger(), nullable=False),
        sa.Column("start_step", sa.BigInteger(), nullable=False),
        sa.Column("end_step", sa.BigInteger(), nullable=False),
        *_point_columns("first"),
        *_point_columns("low"),
        *_point_columns("high"),
        *_point_columns("last"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "run_metric_chunks",
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("model_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("chunk", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("steps", sa.LargeBinary(), nullable=False),
        sa.Column("values", sa.LargeBinary(), nullable=False),
        sa.Column("times", sa.LargeBinary(), nullable=False),
    )
    _build_blocks(op.get_bind())
    op.drop_table("run_metrics")


def _build_blocks(connection: sa.Connection) -> None:
    # The write path's own code builds them: a series' blocks have one definition, wherever made.
    from gemini.db.metric_blocks import MetricBlocks, Span, level_zero, seconds_of

    blocks = MetricBlocks(connection)
    series = connection.execute(sa.text("SELECT DISTINCT run_id, key FROM run_metrics")).all()
    page = sa.text(
        "SELECT step, value, timestamp FROM run_metrics WHERE run_id = :run_id AND key = :key AND step > :after "
        "ORDER BY step LIMIT :limit"
    )
    for stored_run_id, key in series:
        run_id = uuid.UUID(str(stored_run_id))  # SQLite gives the stored hex text, PostgreSQL a UUID
        written: Span | None = None
        while True:
            rows = connection.execute(
                page, {"run_id": stored_run_id, "key": key, "after": -1 if written is None else written.last, "limit": _CHUNK}
            ).all()
            if not rows:
                break
            points = [(step, value, seconds_of(stamp)) for step, value, stamp in rows]
            after = Span(rows[0][0] if written is None else written.first, rows[-1][0])
            blocks.append(run_id, {key: (level_zero(points), written, after)})
            written = after


def downgrade() -> None:
    from gemini.db.metric_blocks import MetricBlocks

    op.create_table(
        "run_metrics",
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("model_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("step", sa.BigInteger(), primary_key=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sqlite_with_rowid=False,
    )
    connection = op.get_bind()
    blocks = MetricBlocks(connection)
    postgresql = connection.dialect.name == "postgresql"
    insert = sa.text("INSERT INTO run_metrics (run_id, key, step, value, timestamp) VALUES (:run_id, :key, :step, :value, :timestamp)")
    for stored_run_id, key in connection.execute(sa.text("SELECT DISTINCT run_id, key FROM run_metric_chunks")).all():
        [(steps, values, times)] = blocks.points([(uuid.UUID(str(stored_run_id)), None, None)], key)
        connection.execute(
            insert,
            [
                {
                    "run_id": stored_run_id,
                    "key": key,
                    "step": step,
                    "value": None if value != value else value,
                    # The text SQLite's rows held (UTC, no zone, microseconds); a moment for PostgreSQL.
                    "timestamp": moment if postgresql else moment.replace(tzinfo=None).isoformat(" ", "microseconds"),
                }
                for step, value, moment in zip(steps, values, (dt.datetime.fromtimestamp(time, dt.timezone.utc) for time in times))
            ],
        )
    op.drop_table("run_metric_chunks")
    op.drop_table("run_metric_blocks")
