"""Model versions and their aliases (``model_versions``, ``model_version_aliases``).

Runs on the caller's connection and never commits, like every repository. Every read returns whole
records: the model's name and the version's aliases come with the version, from the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from gemini.db.artifacts import digests_in
from gemini.db.engine import dialect_insert
from gemini.db.ids import new_id
from gemini.db.tables import ModelRow, model_version_aliases, model_versions, utc_now
from gemini.domain.checks import LATEST
from gemini.domain.errors import NotFoundError
from gemini.domain.records import ModelVersionRecord

_models = ModelRow.__table__
_versions = model_versions
_aliases = model_version_aliases

_COLUMNS = (
    _versions.c.id,
    _versions.c.model_id,
    _models.c.model_name,
    _versions.c.version,
    _versions.c.model_run_id,
    _versions.c.artifact_name,
    _versions.c.sha256,
    _versions.c.size,
    _versions.c.version_info,
    _versions.c.created_at,
    _versions.c.created_by,
)
_WITH_MODEL = _versions.join(_models, _models.c.id == _versions.c.model_id)


class ModelVersionRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # -- reading -------------------------------------------------------------------------------------

    def _records(self, query: sa.Select) -> list[ModelVersionRecord]:
        rows = self.connection.execute(query).all()
        aliases = self._aliases_of([row.id for row in rows])
        return [
            ModelVersionRecord(
                id=row.id,
                model_id=row.model_id,
                model_name=row.model_name,
                version=row.version,
                model_run_id=row.model_run_id,
                artifact_name=row.artifact_name,
                sha256=row.sha256,
                size=row.size,
                version_info=row.version_info,
                aliases=tuple(aliases.get(row.id, ())),
                created_at=row.created_at,
                created_by=row.created_by,
            )
            for row in rows
        ]

    def _aliases_of(self, version_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        if not version_ids:
            return {}
        query = (
            sa.select(_aliases.c.version_id, _aliases.c.alias)
            .where(_aliases.c.version_id.in_(version_ids))
            .order_by(_aliases.c.alias)
        )
        found: dict[uuid.UUID, list[str]] = {}
        for version_id, alias in self.connection.execute(query):
            found.setdefault(version_id, []).append(alias)
        return found

    def _one(self, *conditions: sa.ColumnElement[bool]) -> ModelVersionRecord | None:
        records = self._records(sa.select(*_COLUMNS).select_from(_WITH_MODEL).where(*conditions).limit(1))
        return records[0] if records else None

    def get(self, version_id: uuid.UUID) -> ModelVersionRecord:
        record = self._one(_versions.c.id == version_id)
        if record is None:
            raise NotFoundError(f"no model version with id {version_id}")
        return record

    def get_one_or_none(
        self, *, model_id: uuid.UUID, version: int | None = None, alias: str | None = None
    ) -> ModelVersionRecord | None:
        """The model's version of that number, or the one holding that alias."""
        if version is not None:
            return self._one(_versions.c.model_id == model_id, _versions.c.version == version)
        holder = sa.select(_aliases.c.version_id).where(_aliases.c.model_id == model_id, _aliases.c.alias == alias)
        return self._one(_versions.c.id == holder.scalar_subquery())

    def find(self, *, model_id: uuid.UUID, version: int | None, alias: str | None) -> ModelVersionRecord | None:
        """The model's version of that number, or holding that alias; ``latest``: the highest number."""
        if alias == LATEST:
            return self.latest(model_id)
        return self.get_one_or_none(model_id=model_id, version=version, alias=alias)

    def latest(self, model_id: uuid.UUID) -> ModelVersionRecord | None:
        query = (
            sa.select(*_COLUMNS)
            .select_from(_WITH_MODEL)
            .where(_versions.c.model_id == model_id)
            .order_by(_versions.c.version.desc())
            .limit(1)
        )
        records = self._records(query)
        return records[0] if records else None

    def list(self, *, model_id: uuid.UUID) -> list[ModelVersionRecord]:
        """A model's versions by ascending number."""
        query = sa.select(*_COLUMNS).select_from(_WITH_MODEL).where(_versions.c.model_id == model_id)
        return self._records(query.order_by(_versions.c.version))

    def names_of_runs(self, run_ids: Iterable[uuid.UUID]) -> list[str]:
        """``model@version`` of every version registered from these runs, in that order."""
        ids = list(run_ids)
        if not ids:
            return []
        query = (
            sa.select(_models.c.model_name, _versions.c.version)
            .select_from(_WITH_MODEL)
            .where(_versions.c.model_run_id.in_(ids))
            .order_by(_models.c.model_name, _versions.c.version)
        )
        return [f"{name}@{version}" for name, version in self.connection.execute(query)]

    def digests_of_model(self, model_id: uuid.UUID) -> set[str]:
        query = sa.select(_versions.c.sha256).where(_versions.c.model_id == model_id).distinct()
        return set(self.connection.execute(query).scalars())

    def referenced(self, digests: set[str]) -> set[str]:
        """Those of ``digests`` that some version pins."""
        return digests_in(self.connection, _versions.c.sha256, digests)

    # -- writing -------------------------------------------------------------------------------------

    def add(
        self,
        *,
        model_id: uuid.UUID,
        model_name: str,
        run_id: uuid.UUID,
        artifact_name: str,
        sha256: str,
        size: int,
        version_info: dict[str, Any],
        created_by: str | None,
    ) -> ModelVersionRecord:
        """The model's next version: one more than the highest number it has given (deleted versions
        included, so a number never names two sets of bytes). The number is taken by one update of the
        model's row, which holds that row's lock until the caller commits (on SQLite the caller's write
        transaction holds the database's): concurrent registrations get 1, 2, 3, ... with no gap and no
        repeat, and the unique (model, version) constraint stands behind it."""
        number = self.connection.execute(
            sa.update(_models)
            .where(_models.c.id == model_id)
            .values(last_version=_models.c.last_version + 1, updated_at=_models.c.updated_at)
            .returning(_models.c.last_version)
        ).scalar()
        if number is None:
            raise NotFoundError(f"no model with id {model_id}")
        now = utc_now()
        record = ModelVersionRecord(
            id=new_id(),
            model_id=model_id,
            model_name=model_name,
            version=number,
            model_run_id=run_id,
            artifact_name=artifact_name,
            sha256=sha256,
            size=size,
            version_info=version_info,
            aliases=(),
            created_at=now,
            created_by=created_by,
        )
        self.connection.execute(
            sa.insert(_versions).values(
                id=record.id,
                model_id=model_id,
                version=record.version,
                model_run_id=run_id,
                artifact_name=artifact_name,
                sha256=sha256,
                size=size,
                version_info=version_info,
                created_at=now,
                created_by=created_by,
            )
        )
        return record

    def set_alias(self, *, model_id: uuid.UUID, alias: str, version_id: uuid.UUID) -> None:
        """Point the model's ``alias`` at the version: one statement, so the version that held it loses
        it in the same step and no reader ever sees two holders or none."""
        now = utc_now()
        self.connection.execute(
            dialect_insert(self.connection, _aliases).values(model_id=model_id, alias=alias, version_id=version_id, updated_at=now).on_conflict_do_update(
                index_elements=[_aliases.c.model_id, _aliases.c.alias],
                set_={"version_id": version_id, "updated_at": now},
            )
        )

    def remove_alias(self, *, version_id: uuid.UUID, alias: str) -> bool:
        """Take ``alias`` from the version; ``False`` when it did not hold it."""
        result = self.connection.execute(
            sa.delete(_aliases).where(_aliases.c.version_id == version_id, _aliases.c.alias == alias)
        )
        return result.rowcount > 0

    def update_info(self, version_id: uuid.UUID, version_info: dict[str, Any]) -> None:
        result = self.connection.execute(
            sa.update(_versions).where(_versions.c.id == version_id).values(version_info=version_info)
        )
        if result.rowcount == 0:
            raise NotFoundError(f"no model version with id {version_id}")

    def delete(self, version_id: uuid.UUID) -> None:
        if self.connection.execute(sa.delete(_versions).where(_versions.c.id == version_id)).rowcount == 0:
            raise NotFoundError(f"no model version with id {version_id}")

    def delete_of_model(self, model_id: uuid.UUID) -> None:
        """Every version and alias of a model (before its runs go, which the versions point at)."""
        self.connection.execute(sa.delete(_aliases).where(_aliases.c.model_id == model_id))
        self.connection.execute(sa.delete(_versions).where(_versions.c.model_id == model_id))
