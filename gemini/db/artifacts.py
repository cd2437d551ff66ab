"""The artifact records of runs (``run_artifacts``): which name of which run is which blob.

Runs on the caller's connection and never commits, like every repository.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from gemini.db.engine import dialect_insert
from gemini.db.tables import ModelRunRow, model_records, model_versions, run_artifacts, utc_now
from gemini.domain.errors import NotFoundError
from gemini.domain.records import ArtifactRecord

_COLUMNS = (run_artifacts.c.name, run_artifacts.c.size, run_artifacts.c.sha256, run_artifacts.c.created_at)
_runs = ModelRunRow.__table__

# Digests per IN list: far below both databases' limits on bound parameters.
_DIGESTS_PER_QUERY = 500


def _digest_parts(digests: set[str]) -> Iterator[list[str]]:
    """``digests`` in order, a few hundred at a time: one query each, whatever the caller's count."""
    ordered = sorted(digests)
    for start in range(0, len(ordered), _DIGESTS_PER_QUERY):
        yield ordered[start : start + _DIGESTS_PER_QUERY]


def digests_in(connection: sa.Connection, column: sa.Column, digests: set[str]) -> set[str]:
    """Those of ``digests`` that ``column`` (a table's SHA-256 column) holds, asked a few hundred at a time."""
    found: set[str] = set()
    for part in _digest_parts(digests):
        found.update(connection.execute(sa.select(column).where(column.in_(part)).distinct()).scalars())
    return found


class ArtifactRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def get(self, run_id: uuid.UUID, name: str) -> ArtifactRecord:
        row = self.connection.execute(
            sa.select(*_COLUMNS).where(run_artifacts.c.run_id == run_id, run_artifacts.c.name == name)
        ).first()
        if row is None:
            if not self._run_exists(run_id):
                raise NotFoundError(f"no model run with id {run_id}")
            raise NotFoundError(f"model run {run_id} has no artifact named {name!r}")
        return ArtifactRecord(*row)

    def list_and_count(
        self, run_id: uuid.UUID, *, limit: int | None = None, offset: int | None = None
    ) -> tuple[list[ArtifactRecord], int]:
        """A page of the run's artifacts by name, and how many it has in all; ``NotFoundError`` for no run."""
        total = sa.func.count().over().label("total")
        query = (
            sa.select(*_COLUMNS, total)
            .where(run_artifacts.c.run_id == run_id)
            .order_by(run_artifacts.c.name)
            .offset(offset or 0)
        )
        if limit is not None:
            query = query.limit(limit)
        rows = self.connection.execute(query).all()
        if rows:
            return [ArtifactRecord(*row[:4]) for row in rows], rows[0].total
        if not self._run_exists(run_id):
            raise NotFoundError(f"no model run with id {run_id}")
        count = sa.select(sa.func.count()).select_from(run_artifacts).where(run_artifacts.c.run_id == run_id)
        return [], self.connection.execute(count).scalar_one()

    def put(self, run_id: uuid.UUID, *, name: str, sha256: str, size: int) -> tuple[ArtifactRecord, str | None]:
        """Record ``name`` as the blob ``sha256``, replacing what the name was; returns the record and the
        digest it replaced (``None`` when the name is new). ``NotFoundError`` when the run does not exist."""
        if not self._run_exists(run_id, for_update=True):
            raise NotFoundError(f"no model run with id {run_id}")
        previous = self.connection.execute(
            sa.select(run_artifacts.c.sha256).where(run_artifacts.c.run_id == run_id, run_artifacts.c.name == name)
        ).scalar()
        now = utc_now()
        self.connection.execute(
            dialect_insert(self.connection, run_artifacts).values(run_id=run_id, name=name, sha256=sha256, size=size, created_at=now).on_conflict_do_update(
                index_elements=[run_artifacts.c.run_id, run_artifacts.c.name],
                set_={"sha256": sha256, "size": size, "created_at": now},
            )
        )
        return ArtifactRecord(name, size, sha256, now), previous

    def digests_of_runs(self, run_ids: Iterable[uuid.UUID]) -> set[str]:
        ids = list(run_ids)
        if not ids:
            return set()
        query = sa.select(run_artifacts.c.sha256).where(run_artifacts.c.run_id.in_(ids)).distinct()
        return set(self.connection.execute(query).scalars())

    def digests_of_model(self, model_id: uuid.UUID) -> set[str]:
        query = (
            sa.select(run_artifacts.c.sha256)
            .join(_runs, _runs.c.id == run_artifacts.c.run_id)
            .where(_runs.c.model_id == model_id)
            .distinct()
        )
        return set(self.connection.execute(query).scalars())

    def referenced(self, digests: set[str]) -> set[str]:
        """Those of ``digests`` that some run's artifact still points at."""
        return digests_in(self.connection, run_artifacts.c.sha256, digests)

    def sizes_of(self, digests: set[str]) -> dict[str, int]:
        """The size of each of ``digests`` that some run's artifact points at, as that record has it, asked
        a few hundred at a time."""
        sizes: dict[str, int] = {}
        for part in _digest_parts(digests):
            query = sa.select(run_artifacts.c.sha256, run_artifacts.c.size).where(run_artifacts.c.sha256.in_(part))
            sizes.update((sha256, size) for sha256, size in self.connection.execute(query.distinct()))
        return sizes

    def _run_exists(self, run_id: uuid.UUID, *, for_update: bool = False) -> bool:
        query = sa.select(_runs.c.id).where(_runs.c.id == run_id)
        if for_update and self.connection.dialect.name == "postgresql":
            # Keeps the run from being deleted before the record is in (its cascade would miss it).
            query = query.with_for_update(key_share=True)
        return self.connection.execute(query).first() is not None


def referenced_blobs(connection: sa.Connection) -> list[tuple[str, int]]:
    """Every blob some record points at (a run's artifact, a model version, a model record's file), as
    (digest, size), once each, by digest."""
    union = sa.union(
        sa.select(run_artifacts.c.sha256, run_artifacts.c.size),
        sa.select(model_versions.c.sha256, model_versions.c.size),
        sa.select(model_records.c.file_sha256, model_records.c.file_size).where(model_records.c.file_sha256.is_not(None)),
    ).subquery()
    return [(row[0], row[1]) for row in connection.execute(sa.select(union).order_by(union.c[0]))]
