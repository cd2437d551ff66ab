"""Request and response bodies, apart from the tables: ``XCreate``, ``XUpdate``, ``XPublic``.

Lists answer with plain arrays of ``XPublic`` (their totals and next pages are headers: see
``gemini.rest_api.pages``).

Only the shape of the JSON is checked here; the rules (names not blank, info size, uniqueness) are the
registry's (``gemini.registry``), so REST, the CLI and Python callers all get the same answers.
"""

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gemini.domain.limits import MAX_BATCH_POINTS, MAX_NAME_LENGTH
from gemini.domain.errors import ERROR_KINDS, REQUEST_ERROR_KINDS
from gemini.domain.records import ApiTokenRecord, ExperimentRecord, ModelRecord, ModelRunRecord
from gemini.domain.statuses import END_STATUSES, LOST, RUN_STATUSES
from gemini.domain.tokens import SCOPES
from gemini.domain.wire import API_VERSION

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
Info = dict[str, Any]

RUN_INFO_EXAMPLE = {"epoch": 3, "learning_rate": 0.001, "dataset": "plot-2024-07"}
MODEL_INFO_EXAMPLE = {"framework": "pytorch", "task": "stand counting"}


class Schema(BaseModel):
    # Field names such as model_id and model_info are the domain's; pydantic reserves "model_" otherwise.
    model_config = ConfigDict(protected_namespaces=(), extra="forbid")


class PublicSchema(Schema):
    model_config = ConfigDict(protected_namespaces=(), from_attributes=True)


# --- model runs -----------------------------------------------------------------------------------------


class ModelRunCreate(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={"examples": [{"model_run_info": RUN_INFO_EXAMPLE, "model_name": "stand-counter"}]},
    )

    model_run_info: Info = Field(default_factory=dict, description="Free JSON object describing the run.")
    model_name: Name | None = Field(
        default=None, description="The model the run belongs to, created if missing; none if omitted."
    )


class ModelModelRunCreate(Schema):
    """A run created under ``/api/models/{id}/runs``: the model is the one in the path.

    GEMINI's ``ModelRunInput`` body names the model as well; that name must be the path's model's."""

    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={
            "examples": [{"model_run_info": RUN_INFO_EXAMPLE}, {"model_name": "stand-counter", "model_run_info": {}}]
        },
    )

    model_run_info: Info = Field(default_factory=dict)
    model_name: Name | None = Field(
        default=None, description="Optional; when given, the name of the path's model (422 otherwise)."
    )


class ModelRunUpdate(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={"examples": [{"model_run_info": {"epoch": 4}}, {"run_name": "train2"}, {"run_name": None}]},
    )

    model_run_info: Info | None = Field(default=None, description="Replaces the run's info entirely.")
    run_name: str | None = Field(
        default=None,
        description=(
            f"The run's readable name (at most {MAX_NAME_LENGTH} characters, one line); null removes it. "
            "Left as it is when the field is absent."
        ),
    )


class ModelRunModelAssociation(Schema):
    model_config = ConfigDict(
        protected_namespaces=(), extra="forbid", json_schema_extra={"examples": [{"model_name": "stand-counter"}]}
    )

    model_name: Name


class ModelRunPublic(PublicSchema):
    id: uuid.UUID
    model_id: uuid.UUID | None
    model_name: str | None = Field(description="The name of the run's model; null when it belongs to none.")
    model_run_info: Info
    created_at: dt.datetime
    updated_at: dt.datetime
    status: str | None = Field(
        default=None,
        description=f"Tracked runs only: one of {', '.join(RUN_STATUSES)} ({LOST}: its heartbeat stopped).",
    )
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    error_type: str | None = Field(default=None, description="Why a failed run failed: the exception's type.")
    error_message: str | None = None
    created_by: str | None = Field(
        default=None, description="The name of the token that created the run; null when created without one."
    )
    run_name: str | None = Field(
        default=None, description="The run's readable name (`train2`, `version_3`); null when it has none."
    )

    @classmethod
    def of(cls, record: ModelRunRecord) -> "ModelRunPublic":
        return cls.model_validate(record)


# --- models ---------------------------------------------------------------------------------------------


class ModelCreate(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model_name": "stand-counter",
                    "model_url": "https://example.org/models/stand-counter",
                    "model_info": MODEL_INFO_EXAMPLE,
                }
            ]
        },
    )

    model_name: Name
    model_url: str | None = None
    model_info: Info = Field(default_factory=dict)
    experiment_name: Name | None = Field(
        default=None, description="The experiment to add the model to, created if missing."
    )


class ModelUpdate(Schema):
    """Fields left out (or null) stay as they are; at least one must be given."""

    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={"examples": [{"model_url": "https://example.org/models/stand-counter/v2"}]},
    )

    model_name: Name | None = None
    model_url: str | None = None
    model_info: Info | None = None


class ModelPublic(PublicSchema):
    id: uuid.UUID
    model_name: str
    model_url: str | None
    model_info: Info
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None = Field(
        default=None, description="The name of the token that created the model; null when created without one."
    )
    run_count: int | None = Field(default=None, description="How many runs it has; in list answers, else null.")
    last_run_at: dt.datetime | None = Field(
        default=None, description="When its newest run was recorded; in list answers (null without runs), else null."
    )

    @classmethod
    def of(cls, record: ModelRecord) -> "ModelPublic":
        return cls.model_validate(record)


# --- experiments ----------------------------------------------------------------------------------------


class ExperimentCreate(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={"examples": [{"experiment_name": "Davis 2024", "experiment_info": {"site": "Davis"}}]},
    )

    experiment_name: Name
    experiment_info: Info = Field(default_factory=dict)


class ExperimentPublic(PublicSchema):
    id: uuid.UUID
    experiment_name: str
    experiment_info: Info
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, record: ExperimentRecord) -> "ExperimentPublic":
        return cls.model_validate(record)


# --- API tokens -----------------------------------------------------------------------------------------


class ApiTokenCreate(Schema):
    model_config = ConfigDict(
        protected_namespaces=(), extra="forbid", json_schema_extra={"examples": [{"name": "alice", "scope": "write"}]}
    )

    name: Name
    scope: Literal[SCOPES] = Field(description=" < ".join(SCOPES) + ".")  # type: ignore[valid-type]


class ApiTokenPublic(PublicSchema):
    """A token as listed: never the token itself."""

    id: uuid.UUID
    name: str
    scope: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, record: ApiTokenRecord) -> "ApiTokenPublic":
        return cls.model_validate(record)


class ApiTokenCreated(ApiTokenPublic):
    token: str = Field(description="The token: shown in this response only, the server keeps a hash.")


# --- service --------------------------------------------------------------------------------------------


class HealthPublic(PublicSchema):
    status: str = Field(description='"ok", or "unavailable" when the database cannot be used.')
    api_version: int = Field(
        default=API_VERSION, description="Version of the REST API's shapes; clients refuse a server with another."
    )
    version: str = Field(default="", description="The gemini package version of the server.")
    database: str = Field(description='"reachable" or "unreachable".')
    schema_revision: str | None = None
    detail: str | None = Field(default=None, description="Why the database cannot be used.")
    # The server's own lists, so that a client (the web page) keeps no copy of them.
    run_statuses: list[str] = Field(
        default_factory=lambda: list(RUN_STATUSES), description="Every status a tracked run can be reported with."
    )
    end_statuses: list[str] = Field(
        default_factory=lambda: list(END_STATUSES), description="What a run may be ended with."
    )
    error_kinds: list[str] = Field(
        default_factory=lambda: list(dict.fromkeys(row.kind for row in (*ERROR_KINDS, *REQUEST_ERROR_KINDS))),
        description="Every kind an error body's error field names for a registry error or a refused request.",
    )
    # What this server accepts, so that a client sizes its metric batches to fit instead of learning it
    # from a refusal.
    max_request_bytes: int | None = Field(
        default=None, description="The largest request body accepted (artifact uploads aside), in bytes."
    )
    max_batch_points: int = Field(default=MAX_BATCH_POINTS, description="The most points one metric batch may carry.")


class ErrorPublic(PublicSchema):
    error: str = Field(description="Machine-readable kind, e.g. not_found, conflict, invalid_input.")
    error_description: str = Field(description="What was wrong, naming the field or the entity.")
    detail: str = Field(description="The same text as error_description, for clients that read FastAPI's key.")
