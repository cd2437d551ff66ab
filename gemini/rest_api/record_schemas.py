"""Bodies of the model record endpoints (GEMINI's ``ModelRecord``: a model's output for one moment of one
data collection).

Moments and dates travel as ISO 8601 text and are checked by the registry (``check_record_moment``,
``check_collection_date``), as every rule is: the same input gets the same words from REST, the CLI and
Python. A record's JSON is every field of ``gemini.domain.records.ModelOutputRecord``.
"""

import datetime as dt
import uuid
from typing import Any

from pydantic import ConfigDict, Field, TypeAdapter

from gemini.domain.records import ModelOutputRecord
from gemini.rest_api.schemas import Info, Name, PublicSchema, Schema

MODEL_DATA_EXAMPLE = {"stand_count": 42, "confidence": 0.93}
RECORD_INFO_EXAMPLE = {"plot": "P-0113"}

MOMENT = "ISO 8601 date and time; without an offset it is UTC."


class ModelRecordCreate(Schema):
    """One record of ``POST /api/model_records``. It names no file: a server never reads a path a client
    names (a record with a file is created by ``POST /api/models/id/{model_id}/records``)."""

    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model_name": "stand_counter",
                    "timestamp": "2026-06-01T10:30:00Z",
                    "model_data": MODEL_DATA_EXAMPLE,
                    "dataset_name": "flight-2026-06-01",
                    "experiment_name": "GEMINI",
                    "season_name": "2026",
                    "site_name": "Davis",
                    "record_info": RECORD_INFO_EXAMPLE,
                    "model_version": "stand_counter@production",
                }
            ]
        },
    )

    model_name: Name = Field(description="The model whose output it is, created on first use.")
    timestamp: str | None = Field(default=None, description=f"{MOMENT} Default: now.", examples=["2026-06-01T10:30:00Z"])
    collection_date: str | None = Field(
        default=None, description="YYYY-MM-DD. Default: the timestamp's date (UTC).", examples=["2026-06-01"]
    )
    model_data: Info | None = Field(default=None, description="The output itself, a JSON object.")
    dataset_name: Name | None = None
    experiment_name: Name | None = None
    season_name: Name | None = None
    site_name: Name | None = None
    record_info: Info | None = Field(default=None, description="Anything else; part of what makes a record unique.")
    model_run_id: uuid.UUID | None = Field(default=None, description="The run (of the same model) that produced it.")
    model_version: str | None = Field(
        default=None,
        description="The registered version of the weights that produced it: MODEL_NAME@N or MODEL_NAME@ALIAS.",
        examples=["stand_counter@3"],
    )


class ModelRecordsCreate(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={
            "examples": [{"records": [{"model_name": "stand_counter", "timestamp": "2026-06-01T10:30:00Z", "model_data": MODEL_DATA_EXAMPLE}]}]
        },
    )

    records: list[ModelRecordCreate]


class ModelRecordsCreated(PublicSchema):
    ids: list[uuid.UUID] = Field(description="Per record, in the order sent: its id (a duplicate's is the stored one's).")
    new: list[bool] = Field(description="Per record: false when an equal record was stored already (it is not written again).")


class ModelRecordUpdate(Schema):
    """Fields left out (or null) stay as they are; at least one must be given."""

    model_config = ConfigDict(
        protected_namespaces=(), extra="forbid", json_schema_extra={"examples": [{"model_data": MODEL_DATA_EXAMPLE}]}
    )

    model_data: Info | None = Field(default=None, description="Replaces the record's model_data entirely.")
    record_info: Info | None = Field(default=None, description="Replaces the record's record_info entirely.")


class ModelOutputRecordPublic(PublicSchema):
    """A model record as the API answers it (GEMINI's ``ModelRecord``, plus the run and version that
    produced it and its file's digest)."""

    model_config = ConfigDict(protected_namespaces=(), from_attributes=True)

    id: uuid.UUID
    timestamp: dt.datetime = Field(description="UTC.")
    collection_date: dt.date | None
    model_id: uuid.UUID
    model_name: str
    model_data: Info
    dataset_id: uuid.UUID | None
    dataset_name: str | None
    experiment_id: uuid.UUID | None
    experiment_name: str | None
    season_id: uuid.UUID | None
    season_name: str | None
    site_id: uuid.UUID | None
    site_name: str | None
    record_file: str | None = Field(description="The stored file's name; null without a file.")
    record_info: Info
    model_run_id: uuid.UUID | None = None
    model_version_id: uuid.UUID | None = None
    model_version: str | None = Field(default=None, description="MODEL_NAME@N of the version that produced it.")
    file_sha256: str | None = None
    file_size: int | None = None
    created_at: dt.datetime | None = None

    @classmethod
    def of(cls, record: ModelOutputRecord) -> "ModelOutputRecordPublic":
        return cls.model_validate(record)


_FIELDS_JSON = TypeAdapter(dict[str, Any])


def record_json(record: ModelOutputRecord, *, exclude_none: bool = False) -> bytes:
    """A record's JSON object, the same as ``ModelOutputRecordPublic``'s, written by pydantic's serializer
    straight from the record's fields by name, without validating (the streams write a million)."""
    fields = zip(record._fields, record)
    return _FIELDS_JSON.dump_json({name: value for name, value in fields if value is not None or not exclude_none})
