"""The tables, as SQLAlchemy 2 declarative classes. Only the persistence layer imports this module."""

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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

    experiments: Mapped[list[ExperimentRow]] = relationship(secondary=model_experiments, lazy="raise")


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

    model: Mapped[ModelRow | None] = relationship(lazy="raise")

    __table_args__ = (
        sa.Index("ix_model_runs_info_hash", "info_hash"),
        # Two partial indexes, because NULL model ids are distinct in a plain unique constraint.
        sa.Index(
            "uq_model_runs_model_id_info_hash",
            "model_id",
            "info_hash",
            unique=True,
            sqlite_where=sa.text("model_id IS NOT NULL"),
            postgresql_where=sa.text("model_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_model_runs_unassigned_info_hash",
            "info_hash",
            unique=True,
            sqlite_where=sa.text("model_id IS NULL"),
            postgresql_where=sa.text("model_id IS NULL"),
        ),
        # Serves containment (@>) over run info on PostgreSQL; jsonb_path_ops is the smaller, faster class.
        sa.Index(
            "ix_model_runs_info_gin",
            sa.text("(model_run_info::jsonb) jsonb_path_ops"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )


class InfoHotKeyRow(Base):
    """An info path declared hot: it has its own index (see ``gemini.db.info_index``)."""

    __tablename__ = "info_hot_keys"

    path: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # the keys as a JSON array
    name: Mapped[str] = mapped_column(sa.String(40))  # of the generated column and of the index
    created_at: Mapped[dt.datetime] = mapped_column()


# (path, value, run id) for the strings and integers of every run's info: SQLite's index for nested
# equality, written with each new run and kept by triggers on update and delete (see
# ``gemini.db.info_index``). PostgreSQL has the table, always empty: its GIN index does this job.
model_run_info_values = sa.Table(
    "model_run_info_values",
    Base.metadata,
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("value", sa.types.NullType, primary_key=True),
    sa.Column("run_id", sa.Uuid(), primary_key=True),
)
