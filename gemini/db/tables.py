"""The tables, as SQLAlchemy 2 declarative classes. Only the persistence layer imports this module."""

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gemini.db.ids import new_id


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC on the way out, on both databases (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


# Info is kept as JSON text on both databases (PostgreSQL ``json``, not ``jsonb``) so that it comes back
# exactly as stored: ``jsonb`` would turn 1e300 into an integer. Queries cast it to ``jsonb``, and the
# GIN index is built over that same cast.
InfoJSON = sa.JSON(none_as_null=True)


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: InfoJSON,
        dt.datetime: UTCDateTime(),
        uuid.UUID: sa.Uuid(),
    }


class TimestampedMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now)


model_experiments = sa.Table(
    "model_experiments",
    Base.metadata,
    sa.Column("model_id", sa.Uuid(), sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "experiment_id", sa.Uuid(), sa.ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_model_experiments_experiment_id", "experiment_id"),
)


class ExperimentRow(TimestampedMixin, Base):
    __tablename__ = "experiments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    experiment_name: Mapped[str] = mapped_column(sa.Text, unique=True)
    experiment_info: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ModelRow(TimestampedMixin, Base):
    __tablename__ = "models"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    model_name: Mapped[str] = mapped_column(sa.Text, unique=True)
    model_url: Mapped[str | None] = mapped_column(sa.Text)
    model_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(sa.Text)  # the API token's name; None when local
    # The highest version number the model has given (``model_versions``): the next is this plus one,
    # so a deleted version's number is never given again.
    last_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")


class ModelRunRow(TimestampedMixin, Base):
    __tablename__ = "model_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    model_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("models.id", ondelete="CASCADE"), index=True
    )
    model_run_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # SHA-256 of the canonical JSON of the info: the identity of a run within its model, and the key
    # that keeps uniqueness enforceable for info of any size.
    info_hash: Mapped[str] = mapped_column(sa.String(64))
    # A tracked run (``ModelRun.track``/``start``) has a lifecycle; a run recorded with ``create`` has
    # none (all NULL). ``lost`` is never stored: it is a ``running`` run whose heartbeat stopped.
    status: Mapped[str | None] = mapped_column(sa.String(16))
    started_at: Mapped[dt.datetime | None] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column()
    error_type: Mapped[str | None] = mapped_column(sa.Text)  # why a failed run failed
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str | None] = mapped_column(sa.Text)  # the API token's name; None when local
    # A readable name (``train2``, ``version_3``): given by an integration or the user, editable, not unique.
    run_name: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_model_runs_info_hash", "info_hash"),
        # Two partial indexes, because NULL model ids are distinct in a plain unique constraint. Only
        # runs recorded with ``create`` are identified by their info: two tracked executions of one
        # configuration are two runs.
        sa.Index(
            "uq_model_runs_model_id_info_hash",
            "model_id",
            "info_hash",
            unique=True,
            sqlite_where=sa.text("model_id IS NOT NULL AND status IS NULL"),
            postgresql_where=sa.text("model_id IS NOT NULL AND status IS NULL"),
        ),
        sa.Index(
            "uq_model_runs_unassigned_info_hash",
            "info_hash",
            unique=True,
            sqlite_where=sa.text("model_id IS NULL AND status IS NULL"),
            postgresql_where=sa.text("model_id IS NULL AND status IS NULL"),
        ),
        sa.Index("ix_model_runs_status", "status"),
        sa.Index("ix_model_runs_started_at", "started_at"),
        # Searches by name (``name = "train2"``, ``name in (...)``); many runs have none.
        sa.Index(
            "ix_model_runs_run_name",
            "run_name",
            sqlite_where=sa.text("run_name IS NOT NULL"),
            postgresql_where=sa.text("run_name IS NOT NULL"),
        ),
        # Serves containment (@>) over run info on PostgreSQL; jsonb_path_ops is the smaller, faster class.
        sa.Index(
            "ix_model_runs_info_gin",
            sa.text("(model_run_info::jsonb) jsonb_path_ops"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )


class InfoHotKeyRow(Base):
    """An info path declared hot: it has its own index (see ``gemini.db.search.hot_keys``)."""

    __tablename__ = "info_hot_keys"

    path: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # the keys as a JSON array
    name: Mapped[str] = mapped_column(sa.String(40))  # of the generated column and of the index
    created_at: Mapped[dt.datetime] = mapped_column()


# (path, value, run id) for the strings and integers of every run's info: SQLite's index for nested
# equality, written with each new run and kept by triggers on update and delete (see
# ``gemini.db.search.path_values``). PostgreSQL has the table, always empty: its GIN index does this job.
model_run_info_values = sa.Table(
    "model_run_info_values",
    Base.metadata,
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("value", sa.types.NullType, primary_key=True),
    sa.Column("run_id", sa.Uuid(), primary_key=True),
)


def _run_id_column() -> sa.Column:
    return sa.Column("run_id", sa.Uuid(), sa.ForeignKey("model_runs.id", ondelete="CASCADE"), primary_key=True)


# The batches of points already written, by the id the client gave: a batch sent again is not applied twice.
run_metric_batches = sa.Table(
    "run_metric_batches",
    Base.metadata,
    _run_id_column(),
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

# Each metric series again, in blocks of steps at several widths, for reads that never go point by point
# (gemini.db.metric_blocks says what a block keeps). Point columns are NULL for a block of NaN only.
def _point_columns(prefix: str) -> list[sa.Column]:
    return [
        sa.Column(f"{prefix}_step", sa.BigInteger, nullable=True),
        sa.Column(f"{prefix}_value", sa.Double, nullable=True),
        sa.Column(f"{prefix}_time", sa.Double, nullable=True),  # seconds since 1970, UTC
    ]


run_metric_blocks = sa.Table(
    "run_metric_blocks",
    Base.metadata,
    _run_id_column(),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("block", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("point_count", sa.BigInteger, nullable=False),
    sa.Column("start_step", sa.BigInteger, nullable=False),
    sa.Column("end_step", sa.BigInteger, nullable=False),
    *_point_columns("first"),
    *_point_columns("low"),
    *_point_columns("high"),
    *_point_columns("last"),
    sqlite_with_rowid=False,
)

# A tracked run's metric points: those of each level-0 block, packed (little-endian int64 steps, float64
# values with NaN, float64 seconds since 1970), one value per (run, key, step). The one copy of the
# points: a whole history reads a row per 64 of them. A rowid table on SQLite: in a table
# without rowid a row over about 1,000 bytes spills to overflow pages, and a chunk is 1.5 KB.
run_metric_chunks = sa.Table(
    "run_metric_chunks",
    Base.metadata,
    _run_id_column(),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("chunk", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("steps", sa.LargeBinary, nullable=False),
    sa.Column("values", sa.LargeBinary, nullable=False),
    sa.Column("times", sa.LargeBinary, nullable=False),
)

# Per run and key: the summary that search, sort and the runs table read without the history.
run_metric_summaries = sa.Table(
    "run_metric_summaries",
    Base.metadata,
    _run_id_column(),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("last_value", sa.Double, nullable=True),
    sa.Column("last_step", sa.BigInteger, nullable=False),
    sa.Column("min_value", sa.Double, nullable=True),
    sa.Column("max_value", sa.Double, nullable=True),
    sa.Column("value_count", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_run_metric_summaries_key_last", "key", "last_value"),
    sa.Index("ix_run_metric_summaries_key_min", "key", "min_value"),
    sa.Index("ix_run_metric_summaries_key_max", "key", "max_value"),
)

# A file a run stored: its bytes live once in the content-addressed store, under their SHA-256.
run_artifacts = sa.Table(
    "run_artifacts",
    Base.metadata,
    _run_id_column(),
    sa.Column("name", sa.Text, primary_key=True),  # a relative path such as "plots/pr.png"
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_run_artifacts_sha256", "sha256"),
)

# Per-user API tokens: only a hash of each is kept.
api_tokens = sa.Table(
    "api_tokens",
    Base.metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

# A numbered version of a model: the bytes of one run's artifact, pinned by digest and size when it was
# registered. Numbers run 1, 2, 3, ... per model, allotted under a lock of the model's row.
model_versions = sa.Table(
    "model_versions",
    Base.metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("model_id", sa.Uuid(), sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # No cascade: a run with registered versions is not deleted (the core refuses it with their names).
    sa.Column("model_run_id", sa.Uuid(), sa.ForeignKey("model_runs.id"), nullable=False),
    sa.Column("artifact_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("version_info", InfoJSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.Text, nullable=True),  # the API token's name; None when local
    sa.UniqueConstraint("model_id", "version", name="uq_model_versions_model_id_version"),
    sa.Index("ix_model_versions_model_run_id", "model_run_id"),
    sa.Index("ix_model_versions_sha256", "sha256"),
)

# An alias names one version of a model at a time; moving it is one update of its row.
model_version_aliases = sa.Table(
    "model_version_aliases",
    Base.metadata,
    sa.Column("model_id", sa.Uuid(), sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    # No cascade: a version that holds an alias is not deleted.
    sa.Column("version_id", sa.Uuid(), sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_model_version_aliases_version_id", "version_id"),
)


def _named_entity(table_name: str, prefix: str) -> sa.Table:
    """A dataset, season or site: a name given by the records that use it, and a free info dict."""
    return sa.Table(
        table_name,
        Base.metadata,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(f"{prefix}_name", sa.Text, nullable=False, unique=True),
        sa.Column(f"{prefix}_info", InfoJSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


datasets = _named_entity("datasets", "dataset")
seasons = _named_entity("seasons", "season")
sites = _named_entity("sites", "site")

# GEMINI's model records: one output of a model for one moment of one data collection (a plant count for
# a plot from one flight), tagged with its dataset, experiment, season and site, and here also with the
# run and the registered version of the weights that produced it.
model_records = sa.Table(
    "model_records",
    Base.metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("model_id", sa.Uuid(), nullable=False),
    sa.Column("timestamp", UTCDateTime(), nullable=False),
    sa.Column("collection_date", sa.Date, nullable=True),
    # A model and an experiment can be deleted, so their keys are checked (and an experiment that tags
    # records is not deleted): by foreign keys on SQLite; on PostgreSQL, where a foreign key's trigger per
    # row was a third of a bulk insert's time, by the insert locking each model and experiment once
    # (``ModelRecordRepository._hold_keys``; revision 0011). Datasets, seasons and sites are never
    # deleted: a key check on them would only cost a lookup and a row lock per record written.
    sa.Column("dataset_id", sa.Uuid(), nullable=True),
    sa.Column("experiment_id", sa.Uuid(), nullable=True),
    sa.Column("season_id", sa.Uuid(), nullable=True),
    sa.Column("site_id", sa.Uuid(), nullable=True),
    sa.Column("model_data", InfoJSON, nullable=False),
    sa.Column("record_info", InfoJSON, nullable=False),
    # The record's file: its stored name, and its bytes in the blob store by SHA-256.
    sa.Column("record_file", sa.Text, nullable=True),
    sa.Column("file_sha256", sa.String(64), nullable=True),
    sa.Column("file_size", sa.BigInteger, nullable=True),
    # No cascade: a run or version that records name as their producer is not deleted on its own.
    sa.Column("model_run_id", sa.Uuid(), sa.ForeignKey("model_runs.id"), nullable=True),
    sa.Column("model_version_id", sa.Uuid(), sa.ForeignKey("model_versions.id"), nullable=True),
    # SHA-256 of (model, dataset, experiment, season, site, timestamp, canonical record_info): a record
    # equal in all of these to a stored one is not written again (GEMINI's ON CONFLICT DO NOTHING).
    sa.Column("identity", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # The reads: a model's records at a place (experiment, season, site) over time; any model's at a
    # place; a dataset's; a time range; and what a run or a version produced (few records have these).
    sa.ForeignKeyConstraint(["model_id"], ["models.id"], ondelete="CASCADE").ddl_if(dialect="sqlite"),
    sa.ForeignKeyConstraint(["experiment_id"], ["experiments.id"]).ddl_if(dialect="sqlite"),
    sa.Index("ix_model_records_model_place_time", "model_id", "experiment_id", "season_id", "site_id", "timestamp"),
    sa.Index("ix_model_records_place_time", "experiment_id", "season_id", "site_id", "timestamp"),
    sa.Index("ix_model_records_dataset_time", "dataset_id", "timestamp"),
    sa.Index("ix_model_records_timestamp", "timestamp"),
    sa.Index(
        "ix_model_records_model_run_id",
        "model_run_id",
        sqlite_where=sa.text("model_run_id IS NOT NULL"),
        postgresql_where=sa.text("model_run_id IS NOT NULL"),
    ),
    sa.Index(
        "ix_model_records_model_version_id",
        "model_version_id",
        sqlite_where=sa.text("model_version_id IS NOT NULL"),
        postgresql_where=sa.text("model_version_id IS NOT NULL"),
    ),
    sa.Index(
        "ix_model_records_file_sha256",
        "file_sha256",
        sqlite_where=sa.text("file_sha256 IS NOT NULL"),
        postgresql_where=sa.text("file_sha256 IS NOT NULL"),
    ),
    sa.Index(
        "ix_model_records_model_data_gin",
        sa.text("(model_data::jsonb) jsonb_path_ops"),
        postgresql_using="gin",
    ).ddl_if(dialect="postgresql"),
    sa.Index(
        "ix_model_records_record_info_gin",
        sa.text("(record_info::jsonb) jsonb_path_ops"),
        postgresql_using="gin",
    ).ddl_if(dialect="postgresql"),
)
