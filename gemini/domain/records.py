"""The domain records every layer passes around: plain and immutable, never ORM rows."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar


TOKEN_SCOPES = ("read", "write", "admin")
"""An API token's scopes, from the least to the most allowed: each allows everything the ones before it do."""


@dataclass(frozen=True, slots=True)
class CheckedInfo:
    """An info dict that passed ``gemini.domain.checks.check_info``, with its identity hash."""

    value: dict[str, Any]
    hash: str


@dataclass(frozen=True, slots=True)
class CheckedData:
    """A JSON object that passed ``gemini.domain.checks.check_data``, with its compact JSON text (a
    model record's output: written as that text, never hashed)."""

    value: dict[str, Any]
    json: str


@dataclass(frozen=True, slots=True)
class ExperimentRecord:
    id: uuid.UUID
    experiment_name: str
    experiment_info: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ModelRecord:
    id: uuid.UUID
    model_name: str
    model_url: str | None
    model_info: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None = None
    # Filled by the list reads (with the page, in the same transaction); ``None`` elsewhere.
    run_count: int | None = None
    last_run_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ModelRunRecord:
    id: uuid.UUID
    model_id: uuid.UUID | None
    model_run_info: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    model_name: str | None = None
    # Tracked runs only (``None`` for runs recorded with ``create``). ``status`` is as reported: a
    # ``running`` run whose heartbeat stopped reads as ``lost``.
    status: str | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    error_type: str | None = None
    error_message: str | None = None
    created_by: str | None = None
    run_name: str | None = None
    """A readable name (``train2``, ``version_3``), set by the integrations or the user; not unique."""


class MetricPoint(NamedTuple):
    """One point of a metric's history; NaN and infinities are returned as they were logged.

    A named tuple rather than a frozen dataclass: histories run to hundreds of thousands of points,
    and a tuple is built several times faster."""

    step: int
    value: float
    timestamp: dt.datetime


class MetricSeries(NamedTuple):
    """One key's history of one run as columns, by step: ``values`` as logged (NaN and infinities
    kept), ``timestamps`` in seconds since 1970 (UTC). Columns rather than a point object each: a
    series runs to millions of points, and a chart wants columns anyway.

    ``reduced``: the series was cut down to a number of points (each block of steps keeping its first,
    lowest, highest and last value; NaN points left out); ``False``: every point of the range is here."""

    steps: list[int]
    values: list[float]
    timestamps: list[float]
    reduced: bool = False

    def columns(self) -> dict[str, list]:
        """``{"steps": [...], "values": [...], "timestamps": [...]}``."""
        return {"steps": self.steps, "values": self.values, "timestamps": self.timestamps}

    def points(self) -> list[MetricPoint]:
        """One ``MetricPoint`` a step, its time an aware UTC datetime."""
        moment = dt.datetime.fromtimestamp
        return [
            MetricPoint(step, value, moment(stamp, dt.timezone.utc))
            for step, value, stamp in zip(self.steps, self.values, self.timestamps)
        ]


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """A metric of one run without its history: the value at the highest step, the extremes (NaN
    ignored; ``None`` when every value is NaN), that step and how many points there are."""

    key: str
    last: float
    min: float | None
    max: float | None
    step: int
    count: int


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    """A file a run stored, by the name the run gave it; its bytes are the blob ``sha256``."""

    name: str
    size: int
    sha256: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class BlobParts:
    """A large file cut in parts of ``part_bytes`` (the last may be shorter) and each part's SHA-256, in
    order: a client declares them to upload the parts side by side, each checked by the store."""

    part_bytes: int
    sha256s: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ArtifactBlob:
    """An artifact about to be logged, or whose bytes a client has put into the store: its name within
    the run, and its bytes' SHA-256 and size; ``parts`` when the client would upload them in parts."""

    name: str
    sha256: str
    size: int
    parts: BlobParts | None = None


@dataclass(frozen=True, slots=True)
class PresignedRequest:
    """A request a client may send to the artifact store itself, without its credentials, until
    ``expires_at``: the URL carries the signature, ``headers`` must be sent as they are."""

    method: str
    url: str
    headers: dict[str, str]
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PartsUpload:
    """A large file's way into the store directly: part *n* (from 1, ``part_bytes`` each but the last)
    with ``parts[n - 1]``, in any order and side by side, then ``complete`` with the S3
    ``CompleteMultipartUpload`` list of each part's number, ETag and SHA-256."""

    part_bytes: int
    parts: tuple[PresignedRequest, ...]
    complete: PresignedRequest


@dataclass(frozen=True, slots=True)
class ArtifactUploadOffer:
    """How a client should hand over an artifact's bytes: not at all (``stored``: the store holds them
    already), to the store directly (``upload`` in one request, or ``parts``), or, with none of these,
    through the server's upload route."""

    stored: bool
    upload: PresignedRequest | None
    parts: PartsUpload | None = None

    @property
    def through_server(self) -> bool:
        return not self.stored and self.upload is None and self.parts is None


@dataclass(frozen=True, slots=True)
class ArtifactLink:
    """An artifact, and a request that reads its bytes from the store directly (``None``: read them
    through the server's download route)."""

    record: ArtifactRecord
    download: PresignedRequest | None


@dataclass(frozen=True, slots=True)
class ModelVersionRecord:
    """A numbered version of a model: the bytes of one run's artifact, pinned by their SHA-256 and size
    when it was registered (the run may log other bytes under that name later), and the aliases that
    name it now."""

    id: uuid.UUID
    model_id: uuid.UUID
    model_name: str
    version: int
    model_run_id: uuid.UUID
    artifact_name: str
    sha256: str
    size: int
    version_info: dict[str, Any]
    aliases: tuple[str, ...]
    created_at: dt.datetime
    created_by: str | None = None


class ModelOutputRecord(NamedTuple):
    """One of GEMINI's model records: a model's output (``model_data``) for one moment of one data
    collection, tagged with its dataset, experiment, season and site (names with their ids, ``None`` when
    untagged), its file when it has one, and the run and registered version of the weights that made it.

    A named tuple, like ``MetricPoint``: a read builds one per record, millions of them, and a frozen
    dataclass of this many fields costs several times as much to build.
    Named apart from ``ModelRecord`` (a model itself); the seed facade calls it ``ModelRecord`` as GEMINI
    does (``gemini.api.model_record``)."""

    id: uuid.UUID
    timestamp: dt.datetime
    collection_date: dt.date | None
    model_id: uuid.UUID
    model_name: str
    model_data: dict[str, Any]
    dataset_id: uuid.UUID | None
    dataset_name: str | None
    experiment_id: uuid.UUID | None
    experiment_name: str | None
    season_id: uuid.UUID | None
    season_name: str | None
    site_id: uuid.UUID | None
    site_name: str | None
    record_file: str | None
    """The stored file's name (``None`` without a file); its bytes are the blob ``file_sha256``."""
    record_info: dict[str, Any]
    model_run_id: uuid.UUID | None = None
    model_version_id: uuid.UUID | None = None
    model_version: str | None = None
    """``model_name@number`` of the version, when the record names one."""
    file_sha256: str | None = None
    file_size: int | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    """A per-user API token as the registry lists it: never the token itself, nor its hash."""

    id: uuid.UUID
    name: str
    scope: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class Page(Generic[Item]):
    """The one shape of every read of a list: a page of its items; ``total``, how many match in all,
    when the read was asked for it (read in the same transaction as the page), else ``None``; and
    ``next_cursor``, set by the reads that page by cursor when there may be a next page."""

    items: list[Item]
    total: int | None = None
    next_cursor: str | None = None
