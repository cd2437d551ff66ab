"""Finding one model, run or experiment by what identifies it, and linking models to experiments.

These are the reads and links the Python API makes by name or by info (``Model.get``, ``ModelRun.get``,
``Model.associate_experiment``, ...), so that a client pointed at this server (``GEMINI_API_URL``)
answers exactly as a local one.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from gemini.domain.limits import MAX_SUMMARY_RUNS
from gemini.registry import registry
from gemini.rest_api.errors import NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.schemas import ExperimentPublic, Info, ModelPublic, ModelRunPublic, Name, PublicSchema, Schema
from gemini.rest_api.security import WRITE_ACCESS
from gemini.rest_api.tracking_schemas import MetricSummaryPublic

router = APIRouter(responses=READ_ERRORS)


class ModelRunLookup(Schema):
    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        json_schema_extra={"examples": [{"model_run_info": {"epoch": 3}, "model_name": "stand-counter"}]},
    )

    model_run_info: Info = Field(description="The run's whole info (equality, not containment).")
    model_name: Name | None = Field(default=None, description="Only a run of this model; else the oldest such run.")


class ExperimentLink(Schema):
    model_config = ConfigDict(
        protected_namespaces=(), extra="forbid", json_schema_extra={"examples": [{"experiment_name": "Davis 2024"}]}
    )

    experiment_name: Name


@router.post("/model_runs/lookup", tags=["model runs"], responses=NOT_FOUND)
def lookup_model_run(body: ModelRunLookup) -> ModelRunPublic:
    """The run whose info equals ``model_run_info``; 404 when there is none. A read (nothing is written):
    a POST only because an info may be too large for a URL."""
    return ModelRunPublic.of(registry().find_run(model_run_info=body.model_run_info, model_name=body.model_name))


@router.get("/models/lookup", tags=["models"], responses=NOT_FOUND)
def lookup_model(
    model_name: Annotated[str, Query(description="The model's exact name.")],
    experiment_name: Annotated[str | None, Query(description="404 unless the model is part of it.")] = None,
) -> ModelPublic:
    """The model of this name (in ``experiment_name``, when given); 404 when there is none."""
    return ModelPublic.of(registry().get_model_by_name(model_name=model_name, experiment_name=experiment_name))


@router.get("/experiments/lookup", tags=["experiments"], responses=NOT_FOUND)
def lookup_experiment(experiment_name: Annotated[str, Query(description="The experiment's exact name.")]) -> ExperimentPublic:
    """The experiment of this name; 404 when there is none."""
    return ExperimentPublic.of(registry().get_experiment_by_name(experiment_name=experiment_name))


@router.post(
    "/models/{model_id}/experiments",
    tags=["models"],
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND},
)
def link_model_experiment(model_id: uuid.UUID, body: ExperimentLink) -> ExperimentPublic:
    """Add the model to an existing experiment (nothing changes when it is already part of it)."""
    return ExperimentPublic.of(
        registry().associate_experiment(model_id=model_id, experiment_name=body.experiment_name)
    )


@router.delete(
    "/models/{model_id}/experiments",
    tags=["models"],
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND},
)
def unlink_model_experiment(
    model_id: uuid.UUID, experiment_name: Annotated[str, Query(description="The experiment to leave.")]
) -> ExperimentPublic:
    """Take the model out of the experiment; 404 when it is not part of it. Returns the experiment."""
    return ExperimentPublic.of(registry().unassociate_experiment(model_id=model_id, experiment_name=experiment_name))


class MetricSummariesLookup(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"run_ids": ["01a22def-8ca6-710a-9616-56964e2f0d1d"]}]}
    )

    run_ids: list[uuid.UUID] = Field(max_length=MAX_SUMMARY_RUNS, description=f"The runs, at most {MAX_SUMMARY_RUNS}.")


class RunMetricSummariesPublic(PublicSchema):
    run_id: uuid.UUID
    summaries: list[MetricSummaryPublic]


@router.post("/metrics/summaries", tags=["tracking"])
def lookup_metric_summaries(body: MetricSummariesLookup) -> list[RunMetricSummariesPublic]:
    """Each metric's summary for many runs in one read (runs without metrics are left out): what a
    DataFrame of runs shows as their last values. A read; a POST only because the ids may be many."""
    found = registry().metric_summaries_of_runs(run_ids=body.run_ids)
    return [
        RunMetricSummariesPublic(run_id=run_id, summaries=[MetricSummaryPublic.of(summary) for summary in summaries])
        for run_id, summaries in found.items()
    ]
