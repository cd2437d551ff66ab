"""Model versions over REST: each operation of the contract as one request on its route, the answer read
back into the records the database transport returns; the pinned bytes streamed like an artifact's."""

import uuid
from pathlib import Path

from gemini.domain.records import CheckedInfo, ModelVersionRecord
from gemini.registry.contract import route_of
from gemini.remote import artifacts, http, records


def register_model_version(
    *, run_id: uuid.UUID, artifact_name: str, version_info: CheckedInfo, created_by: str | None
) -> ModelVersionRecord:
    # Not repeated after a lost answer: a second request would register a second version. created_by is
    # the server's to record (the name of the token the request carries).
    body = {"artifact_name": artifact_name, "version_info": version_info.value}
    response = http.send("register_model_version", run_id=run_id, json=body, idempotent=False)
    return records.model_version(response.json())


def get_model_version(*, version_id: uuid.UUID) -> ModelVersionRecord:
    return records.model_version(http.send("get_model_version", version_id=version_id).json())


def find_model_version(*, model_name: str, version: int | None, alias: str | None) -> ModelVersionRecord:
    params = http.query({"model_name": model_name, "version": version, "alias": alias})
    return records.model_version(http.send("find_model_version", params=params).json())


def list_model_versions(*, model_id: uuid.UUID) -> list[ModelVersionRecord]:
    return [records.model_version(item) for item in http.send("list_model_versions", model_id=model_id).json()]


def set_model_version_alias(*, version_id: uuid.UUID, alias: str) -> ModelVersionRecord:
    response = http.send("set_model_version_alias", version_id=version_id, alias=alias)
    return records.model_version(response.json())


def remove_model_version_alias(*, version_id: uuid.UUID, alias: str) -> ModelVersionRecord:
    response = http.send("remove_model_version_alias", version_id=version_id, alias=alias)
    return records.model_version(response.json())


def update_model_version(*, version_id: uuid.UUID, version_info: CheckedInfo) -> ModelVersionRecord:
    response = http.send("update_model_version", version_id=version_id, json={"version_info": version_info.value})
    return records.model_version(response.json())


def delete_model_version(*, version_id: uuid.UUID) -> None:
    http.send("delete_model_version", version_id=version_id)


def download_model_version(*, version_id: uuid.UUID, dest: Path) -> Path:
    declared = route_of("download_model_version")
    path = declared.path.format(version_id=version_id)
    return artifacts.download(declared.method, path, dest, what=f"model version {version_id}")
