"""Bodies of the model version endpoints."""

import datetime as dt
import uuid

from pydantic import ConfigDict, Field

from gemini.domain.limits import MAX_ALIAS_LENGTH
from gemini.domain.records import ModelVersionRecord
from gemini.rest_api.schemas import Info, PublicSchema, Schema

VERSION_INFO_EXAMPLE = {"map50": 0.91, "epoch": 87}


class ModelVersionCreate(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={"examples": [{"artifact_name": "weights/best.pt", "version_info": VERSION_INFO_EXAMPLE}]},
    )

    artifact_name: str = Field(description="The run's artifact whose bytes the version pins.")
    version_info: Info = Field(default_factory=dict, description="Free JSON object describing the version.")


class ModelVersionUpdate(Schema):
    model_config = ConfigDict(
        protected_namespaces=(), extra="forbid", json_schema_extra={"examples": [{"version_info": {"map50": 0.92}}]}
    )

    version_info: Info = Field(description="Replaces the version's info entirely.")


class ModelVersionPublic(PublicSchema):
    model_config = ConfigDict(
        protected_namespaces=(),
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "01a22def-8ca6-710a-9616-56964e2f0d1d",
                    "model_id": "01a22de0-11aa-7c1e-8a5c-0f3e5a6b7c8d",
                    "model_name": "stand_counter",
                    "version": 3,
                    "model_run_id": "01a22dd9-02b1-7f4e-9a11-3c4d5e6f7a8b",
                    "artifact_name": "weights/best.pt",
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "size": 6190506,
                    "version_info": VERSION_INFO_EXAMPLE,
                    "aliases": ["production"],
                    "created_at": "2026-12-04T09:12:31.402Z",
                    "created_by": None,
                }
            ]
        },
    )

    id: uuid.UUID
    model_id: uuid.UUID
    model_name: str
    version: int = Field(description="1, 2, 3, ... within the model, in order of registration.")
    model_run_id: uuid.UUID = Field(description="The run the bytes come from.")
    artifact_name: str = Field(description="The run's artifact the bytes were when the version was registered.")
    sha256: str = Field(description="SHA-256 of the pinned bytes; also the download's ETag.")
    size: int = Field(description="In bytes.")
    version_info: Info
    aliases: list[str] = Field(description=f"The aliases that name it now (at most {MAX_ALIAS_LENGTH} characters each).")
    created_at: dt.datetime
    created_by: str | None = Field(
        default=None, description="The name of the token that registered it; null when registered without one."
    )

    @classmethod
    def of(cls, record: ModelVersionRecord) -> "ModelVersionPublic":
        return cls.model_validate(record)
