"""``POST /api/model_runs/bulk``: record many runs in one transaction."""

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from gemini.domain.limits import MAX_BULK_RUNS
from gemini.registry import registry
from gemini.rest_api.errors import READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.schemas import Info, ModelRunPublic, Name, PublicSchema, Schema
from gemini.rest_api.security import WRITE_ACCESS, Writer
from gemini.rest_api.strict_json import StrictJsonRoute

router = APIRouter(route_class=StrictJsonRoute, prefix="/model_runs", tags=["model runs"], responses=READ_ERRORS)


class ModelRunsBulkCreate(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={
            "examples": [{"model_name": "stand-counter", "model_run_infos": [{"epoch": 1}, {"epoch": 2}]}]
        },
    )

    model_run_infos: list[Info] = Field(max_length=MAX_BULK_RUNS, description="The runs' infos, in order.")
    model_name: Name | None = Field(
        default=None, description="The model every run belongs to (created if missing); none if omitted."
    )


class ModelRunsBulkPublic(PublicSchema):
    data: list[ModelRunPublic] = Field(description="One run per given info, in the same order.")
    created: list[bool] = Field(description="For each run, whether this request created it.")
    created_count: int
    existing_count: int


BULK_DESCRIPTION = f"""Record up to {MAX_BULK_RUNS:,} runs of one model (created if ``model_name`` names none
yet) or of none, in one transaction, in order. Runs that already exist are returned, not duplicated, and
equal infos in one request are one run; one invalid info refuses the whole request (422) and nothing is
written."""


# def: the work grows with the request and waits on the write lock, so it runs in the thread pool.
@router.post("/bulk", dependencies=WRITE_ACCESS, responses=WRITE_ERRORS, description=BULK_DESCRIPTION)
def create_model_runs_bulk(body: ModelRunsBulkCreate, writer: Writer) -> ModelRunsBulkPublic:
    results = registry().create_runs(
        model_run_infos=body.model_run_infos, model_name=body.model_name, created_by=writer.name
    )
    created = [was_created for _, was_created in results]
    return ModelRunsBulkPublic(
        data=[ModelRunPublic.of(record) for record, _ in results],
        created=created,
        created_count=sum(created),
        existing_count=len(created) - sum(created),
    )
