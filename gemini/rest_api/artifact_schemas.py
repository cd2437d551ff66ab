"""Bodies of the artifact endpoints."""

import datetime as dt

from pydantic import ConfigDict, Field

from gemini.domain.records import ArtifactRecord, PartsUpload, PresignedRequest
from gemini.rest_api.schemas import PublicSchema, Schema

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


class ArtifactBlob(Schema):
    """The bytes a client is about to log, or has put into the store, by digest and size."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "weights/best.pt", "sha256": ARTIFACT_EXAMPLE["sha256"], "size": 6234117}]},
    )

    name: str = Field(description="The artifact's name within the run, e.g. 'weights/best.pt'.")
    sha256: str = Field(description="SHA-256 of the bytes, as 64 hexadecimal digits.")
    size: int = Field(description="In bytes.")
    part_bytes: int | None = Field(
        default=None,
        description="To upload a large file in parts (offer only): the size of each part but the last, "
        "from 5 MiB to 5 GiB, at most 10,000 parts; with part_sha256s.",
    )
    part_sha256s: list[str] | None = Field(
        default=None, description="Each part's SHA-256, in order (offer only); the store checks each part against it."
    )


class ArtifactBlobs(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"artifacts": [{"name": "weights/best.pt", "sha256": ARTIFACT_EXAMPLE["sha256"], "size": 6234117}]}]
        },
    )

    artifacts: list[ArtifactBlob] = Field(description="At most 1,000, each name once.")


class PresignedPublic(PublicSchema):
    method: str = Field(description="The HTTP method to use: PUT to upload, GET to download.")
    url: str = Field(description="The store's URL, signed: no other credentials are sent with it.")
    headers: dict[str, str] = Field(description="Headers to send exactly as they are (they are signed).")
    expires_at: dt.datetime = Field(description="After this the store refuses the request (403): ask again.")

    @classmethod
    def of(cls, request: PresignedRequest | None) -> "PresignedPublic | None":
        if request is None:
            return None
        return cls(method=request.method, url=request.url, headers=request.headers, expires_at=request.expires_at)


class PartsUploadPublic(PublicSchema):
    part_bytes: int = Field(description="Part n (from 1) is the bytes from (n - 1) * part_bytes, part_bytes of them but the last.")
    parts: list[PresignedPublic] = Field(description="Part n's request is parts[n - 1]; send them in any order, side by side.")
    complete: PresignedPublic = Field(
        description="Then send this with S3's CompleteMultipartUpload XML: each part's PartNumber, ETag (as the "
        "store answered it) and ChecksumSHA256; then record the artifact (artifact_records)."
    )

    @classmethod
    def of(cls, upload: PartsUpload | None) -> "PartsUploadPublic | None":
        if upload is None:
            return None
        return cls(
            part_bytes=upload.part_bytes,
            parts=[PresignedPublic.of(request) for request in upload.parts],
            complete=PresignedPublic.of(upload.complete),
        )


class ArtifactUploadOfferPublic(PublicSchema):
    stored: bool = Field(description="The store holds these bytes already: record them (artifact_records).")
    upload: PresignedPublic | None = Field(
        description="Send the bytes to the store with this request, then record them (artifact_records). "
        "Null with stored false and parts null: PUT them to /api/model_runs/{run_id}/artifacts/{name} instead."
    )
    parts: PartsUploadPublic | None = Field(
        default=None,
        description="For an artifact offered with part_bytes, when the store takes parts: upload them with these "
        "requests instead, then record the artifact (artifact_records).",
    )


class ArtifactLinkPublic(PublicSchema):
    artifact: ArtifactPublic
    download: PresignedPublic | None = Field(
        description="Read the bytes from the store with this request (check them against artifact.sha256); "
        "null: GET /api/model_runs/{run_id}/artifacts/{name}."
    )
