"""Model versions on the database: register a run's artifact as a model's next version, find versions by
number, alias or id, move aliases, and read the pinned bytes.

A version pins bytes: the SHA-256 and size of the artifact when it was registered. The run may log other
bytes under the same name later; the version still names the old ones, and their blob is kept while it
exists (``gemini.core.artifacts`` counts versions among a blob's references). Arguments arrive checked
by the registry's front.
"""

import uuid
from pathlib import Path

from gemini.core import artifacts
from gemini.db.artifacts import ArtifactRepository
from gemini.db.engine import unit_of_work
from gemini.db.repositories import ModelRepository, ModelRunRepository
from gemini.db.model_records import ModelRecordRepository, RecordFilter
from gemini.db.versions import ModelVersionRepository
from gemini.domain.checks import LATEST
from gemini.domain.errors import ConflictError, InvalidInputError, NotFoundError
from gemini.domain.records import ArtifactRecord, CheckedInfo, ModelVersionRecord
from gemini.registry.downloads import write_verified


def register_model_version(
    *, run_id: uuid.UUID, artifact_name: str, version_info: CheckedInfo, created_by: str | None
) -> ModelVersionRecord:
    """The run's artifact ``artifact_name`` as the next version of the run's model; ``NotFoundError`` for
    a run or an artifact that does not exist, nothing written."""
    # Under the store's shared lock: a blob being released (the name logged again meanwhile) is either
    # gone before the artifact is read here, which then names the new bytes, or kept by this version.
    with artifacts.artifact_store().publishing():
        with unit_of_work(write=True) as connection:
            run = ModelRunRepository(connection).get(run_id)
            if run.model_id is None:
                raise InvalidInputError(
                    f"model run {run_id} belongs to no model: associate it with one before registering a version"
                )
            artifact = ArtifactRepository(connection).get(run_id, artifact_name)
            return ModelVersionRepository(connection).add(
                model_id=run.model_id,
                model_name=run.model_name,
                run_id=run_id,
                artifact_name=artifact.name,
                sha256=artifact.sha256,
                size=artifact.size,
                version_info=version_info.value,
                created_by=created_by,
            )


def get_model_version(*, version_id: uuid.UUID) -> ModelVersionRecord:
    with unit_of_work() as connection:
        return ModelVersionRepository(connection).get(version_id)


def find_model_version(*, model_name: str, version: int | None, alias: str | None) -> ModelVersionRecord:
    """The version of the model named ``model_name`` with that number, or holding that alias (``latest``:
    the highest number)."""
    with unit_of_work() as connection:
        model_id = ModelRepository(connection).id_for_name(model_name)
        found = ModelVersionRepository(connection).find(model_id=model_id, version=version, alias=alias)
    if found is None and alias == LATEST:
        raise NotFoundError(f"model {model_name!r} has no versions")
    if found is None:
        what = f"version {version}" if version is not None else f"a version with alias {alias!r}"
        raise NotFoundError(f"model {model_name!r} has no {what}")
    return found


def list_model_versions(*, model_id: uuid.UUID) -> list[ModelVersionRecord]:
    """A model's versions, by ascending number; a model has few, so they come in one list."""
    with unit_of_work() as connection:
        ModelRepository(connection).get(model_id)
        return ModelVersionRepository(connection).list(model_id=model_id)


def set_model_version_alias(*, version_id: uuid.UUID, alias: str) -> ModelVersionRecord:
    """Give the version ``alias``, taking it from the version of the same model that held it, in one step."""
    with unit_of_work(write=True) as connection:
        versions = ModelVersionRepository(connection)
        found = versions.get(version_id)
        versions.set_alias(model_id=found.model_id, alias=alias, version_id=version_id)
        return versions.get(version_id)


def remove_model_version_alias(*, version_id: uuid.UUID, alias: str) -> ModelVersionRecord:
    """Take ``alias`` from the version; ``NotFoundError`` when it does not hold it."""
    with unit_of_work(write=True) as connection:
        versions = ModelVersionRepository(connection)
        found = versions.get(version_id)
        if not versions.remove_alias(version_id=version_id, alias=alias):
            raise NotFoundError(f"{found.model_name}@{found.version} has no alias {alias!r}")
        return versions.get(version_id)


def update_model_version(*, version_id: uuid.UUID, version_info: CheckedInfo) -> ModelVersionRecord:
    """Replace the version's info (its bytes never change)."""
    with unit_of_work(write=True) as connection:
        versions = ModelVersionRepository(connection)
        versions.update_info(version_id, version_info.value)
        return versions.get(version_id)


def delete_model_version(*, version_id: uuid.UUID) -> None:
    """Delete a version; refused while it holds an alias. Its number is not given again."""
    with unit_of_work(write=True) as connection:
        versions = ModelVersionRepository(connection)
        found = versions.get(version_id)
        if found.aliases:
            raise ConflictError(
                f"{found.model_name}@{found.version} holds the aliases {', '.join(found.aliases)}: "
                "remove them or move them to another version before deleting it"
            )
        produced = ModelRecordRepository(connection).count(RecordFilter(model_version_id=version_id))
        if produced:
            raise ConflictError(
                f"{found.model_name}@{found.version} produced {produced} model records: delete them before the version"
            )
        versions.delete(version_id)
    artifacts.release_blobs_after_delete({found.sha256})


def _pinned(found: ModelVersionRecord) -> ArtifactRecord:
    return ArtifactRecord(name=found.artifact_name, size=found.size, sha256=found.sha256, created_at=found.created_at)


def get_model_version_bytes(*, version_id: uuid.UUID) -> ArtifactRecord:
    """The bytes a version pinned, as the artifact they were when it was registered (its name, size and
    SHA-256): what the server's streamed download opens with ``artifacts.open_blob``."""
    return _pinned(get_model_version(version_id=version_id))


def download_model_version(*, version_id: uuid.UUID, dest: Path) -> Path:
    """Write the version's pinned bytes to the file ``dest``, checked against their SHA-256 as they are
    read (the store's whole read raises ``ArtifactCorruptedError`` in place of bytes that differ)."""
    found = get_model_version(version_id=version_id)
    opened = artifacts.open_blob(_pinned(found))
    return write_verified(dest, opened.chunks, expected_sha256=None, what=f"{found.model_name}@{found.version}")
