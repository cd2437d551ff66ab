"""Names given to create something: a model or experiment named by a create is made on first use.

``ModelRun.create(..., model_name=X)`` records a run of model X whether or not X exists yet, and
``Model.create(..., experiment_name=E)`` puts the model in experiment E, made if need be: a run recorded
at the end of a long job must not be lost because nobody created its model first. Names given to *find*
something (get, exists, search, count) and explicit associations never come here.

Each function runs on the caller's connection, inside the caller's unit of work, so what it creates is
committed together with what the caller writes under it, or not at all. Every operation that records
something under a model by name calls ``get_or_create_model_id``.
"""

import logging
import uuid

import sqlalchemy as sa

from gemini.db.repositories import ExperimentRepository, ModelRepository

logger = logging.getLogger("gemini.core")


def get_or_create_model_id(connection: sa.Connection, *, model_name: str, created_by: str | None = None) -> uuid.UUID:
    """The id of the model named ``model_name`` (a name already checked), created when missing (by
    ``created_by``, the author of what is recorded under it).

    Safe when several processes do it at once: one model, every caller gets its id. A creation is logged
    at INFO on the ``gemini.core`` logger.
    """
    model_id, created = ModelRepository(connection).get_or_add_id(model_name, created_by=created_by)
    if created:
        logger.info("created model %r (id %s) for a run recorded under that name", model_name, model_id)
    return model_id


def get_or_create_experiment_id(connection: sa.Connection, *, experiment_name: str, model_name: str) -> uuid.UUID:
    """The id of the experiment named ``experiment_name`` (a name already checked), created when missing
    for the model ``model_name`` being put in it; logged like ``get_or_create_model_id``."""
    experiment_id, created = ExperimentRepository(connection).get_or_add_id(experiment_name)
    if created:
        logger.info(
            "created experiment %r (id %s) for model %r", experiment_name, experiment_id, model_name
        )
    return experiment_id
