"""Bodies of the artifact endpoints."""

import datetime as dt

from pydantic import ConfigDict, Field

from gemini.domain.records import ArtifactRecord
from gemini.rest_api.schemas import PublicSchema

ARTIFACT_EXAMPLE = {
    "name": "weights/best.pt",
    "size": 6234117,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "created_at": "2026-07-14T09:12:31.402+00:00",
}


class ArtifactPublic(PublicSchema):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [ARTIFACT_EXAMPLE]})

    name: str = Field(description="A relative path such as 'plots/pr.png', unique within the run.")
    size: int = Field(description="In bytes.")
    sha256: str = Field(description="SHA-256 of the bytes, as 64 hexadecimal digits; also the download's ETag.")
    created_at: dt.datetime = Field(description="When this name was last logged.")

    @classmethod
    def of(cls, record: ArtifactRecord) -> "ArtifactPublic":
        return cls(name=record.name, size=record.size, sha256=record.sha256, created_at=record.created_at)
