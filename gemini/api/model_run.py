"""``ModelRun``: a single execution or epoch of a ``Model``, with a free dict of run information.

Every method follows the seed: ``None`` (``False`` for yes/no and ``delete``) when the operation fails,
with one log line on the ``gemini.api`` logger saying why.
"""

import datetime as dt
from typing import TYPE_CHECKING, List, Optional
from uuid import UUID

from pydantic import Field, PrivateAttr

from gemini.api import model as _model
from gemini.api.artifacts import ArtifactsMixin
from gemini.api.base import APIBase, seed_operation
from gemini.api.model_version import ModelVersion
from gemini.api.tracking import TrackingMixin
from gemini.registry import registry
from gemini.domain.errors import InvalidInputError, NotFoundError
from gemini.domain.records import ModelRunRecord

if TYPE_CHECKING:
    from gemini.api.model import Model

ID = UUID | int | str


class ModelRun(TrackingMixin, ArtifactsMixin, APIBase):
    """Represents a run of a model, including metadata, associations to models, and run information.

    A tracked run (``ModelRun.track``/``start``) also has a ``status`` (``running``, ``finished``,
    ``failed``, ``killed``, or ``lost`` for a running run whose heartbeat stopped), ``started_at`` and
    ``ended_at``, and metrics (see ``gemini.api.tracking``). A run recorded with ``create`` has none.
    """

    id: Optional[UUID] = None
    model_id: Optional[UUID] = None
    model_run_info: Optional[dict] = None
    created_at: Optional[dt.datetime] = Field(default=None, repr=False)
    updated_at: Optional[dt.datetime] = Field(default=None, repr=False)
    status: Optional[str] = Field(default=None, repr=False)
    started_at: Optional[dt.datetime] = Field(default=None, repr=False)
    ended_at: Optional[dt.datetime] = Field(default=None, repr=False)
    error_type: Optional[str] = Field(default=None, repr=False)
    error_message: Optional[str] = Field(default=None, repr=False)
    created_by: Optional[str] = Field(default=None, repr=False)
    """The name of the API token that created it over a team server; None when created locally."""
    run_name: Optional[str] = Field(default=None, repr=False)
    """Its readable name (``train2``, ``version_3``; not unique), or None; changed with ``rename``. Kept
    out of the printed form, which stays the seed's."""

    _buffer: Optional[object] = PrivateAttr(default=None)
    _owns_run: bool = PrivateAttr(default=False)

    @classmethod
    def from_record(cls, record: ModelRunRecord) -> "ModelRun":
        return cls(
            id=record.id,
            model_id=record.model_id,
            model_run_info=record.model_run_info,
            created_at=record.created_at,
            updated_at=record.updated_at,
            status=record.status,
            started_at=record.started_at,
            ended_at=record.ended_at,
            error_type=record.error_type,
            error_message=record.error_message,
            created_by=record.created_by,
            run_name=record.run_name,
        )

    def _apply(self, record: ModelRunRecord) -> "ModelRun":
        self.model_id = record.model_id
        self.model_run_info = record.model_run_info
        self.created_at = record.created_at
        self.updated_at = record.updated_at
        self.status = record.status
        self.started_at = record.started_at
        self.ended_at = record.ended_at
        self.error_type = record.error_type
        self.error_message = record.error_message
        self.created_by = record.created_by
        self.run_name = record.run_name
        return self

    # -- class methods -------------------------------------------------------------------------------

    @classmethod
    @seed_operation(fallback=False)
    def exists(cls, model_run_info: dict, model_name: str = None) -> bool:
        """Whether a run with exactly this info exists (of ``model_name``, when given)."""
        return registry().run_exists(model_run_info=model_run_info, model_name=model_name)

    @classmethod
    @seed_operation(fallback=None)
    def create(cls, model_run_info: dict = None, model_name: str = None) -> Optional["ModelRun"]:
        """Create a run of ``model_name`` (created when missing) or of no model; an equal existing run is
        returned instead."""
        return cls.from_record(registry().create_run(model_run_info=model_run_info, model_name=model_name)[0])

    @classmethod
    @seed_operation(fallback=None)
    def create_many(cls, infos: List[dict], model_name: str = None) -> Optional[List["ModelRun"]]:
        """Create many runs of ``model_name`` (created when missing) or of no model, in one transaction,
        in input order; runs that already exist are returned instead, and equal infos in ``infos`` give
        the same run. ``None`` (nothing written, not even the model) when any info is invalid."""
        records = [run for run, _ in registry().create_runs(model_run_infos=infos, model_name=model_name)]
        return [cls.from_record(record) for record in records]

    @classmethod
    @seed_operation(fallback=None)
    def get(cls, model_run_info: dict | UUID, model_name: str = None) -> Optional["ModelRun"]:
        """The run whose info equals ``model_run_info`` (of ``model_name`` when given, else the oldest).

        Given a ``UUID`` object instead (``ModelRun.get(run.id)``), the run with that id, as ``get_by_id``.
        """
        if isinstance(model_run_info, UUID):
            if model_name is not None:
                raise InvalidInputError("a model run is got by its id alone: give no model_name with an id")
            return cls.from_record(registry().get_run(run_id=model_run_info))
        return cls.from_record(registry().find_run(model_run_info=model_run_info, model_name=model_name))

    @classmethod
    @seed_operation(fallback=None)
    def get_by_id(cls, id: ID) -> Optional["ModelRun"]:
        """The run with this id (a UUID, its string form, or its integer value)."""
        return cls.from_record(registry().get_run(run_id=id))

    @classmethod
    @seed_operation(fallback=None)
    def get_all(cls, limit: int = None, offset: int = None) -> Optional[List["ModelRun"]]:
        """Every run in creation order, paged by ``limit``/``offset``; ``None`` when there are none."""
        records = registry().search_runs(limit=limit, offset=offset).items
        if not records:
            raise NotFoundError("no model runs found")
        return [cls.from_record(record) for record in records]

    @classmethod
    @seed_operation(fallback=None)
    def search(
        cls,
        model_run_info: dict = None,
        model_name: str = None,
        *,
        where: str = None,
        order_by: str | list[str] = None,
        limit: int = None,
        offset: int = None,
    ) -> Optional[List["ModelRun"]]:
        """Runs whose info contains ``model_run_info`` (as PostgreSQL's ``@>``), of ``model_name``, and
        matching ``where`` (e.g. ``'params.lr < 0.01 and data.site in ("Davis", "Kearney")'``), in
        ``order_by`` order (e.g. ``"-metrics.map50"``; creation order by default). See docs/search.md.

        At least one criterion is required; ``None`` when nothing matches.
        """
        if model_run_info is None and model_name is None and where is None:
            raise InvalidInputError("give model_run_info, model_name or where to search")
        page = registry().search_runs(
            model_run_info=model_run_info,
            model_name=model_name,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
        )
        if not page.items:
            raise NotFoundError("no model runs match the search")
        return [cls.from_record(record) for record in page.items]

    @classmethod
    @seed_operation(fallback=None)
    def count(cls, model_run_info: dict = None, model_name: str = None, *, where: str = None) -> Optional[int]:
        """How many runs ``search`` would find with these filters (every run when none is given);
        ``None`` only when the count fails (a malformed ``where``, an unknown model)."""
        return registry().count_runs(model_run_info=model_run_info, model_name=model_name, where=where)

    @classmethod
    def to_dataframe(
        cls,
        model_run_info: dict = None,
        model_name: str = None,
        *,
        where: str = None,
        order_by: str | list[str] = None,
    ) -> Optional["pandas.DataFrame"]:  # noqa: F821 - optional dependency
        """The runs ``search`` would find (every run when no filter is given) as a pandas DataFrame, info
        flattened to ``info.<path>`` columns. ``None`` (one log line) when the search fails; without
        pandas installed (``pip install 'gemini-model-registry[export]'``) an ``ImportError`` says so."""
        from gemini.api import run_export

        @seed_operation(fallback=None)
        def build() -> "pandas.DataFrame":  # noqa: F821
            return run_export.to_dataframe(
                model_run_info=model_run_info, model_name=model_name, where=where, order_by=order_by
            )

        build.__qualname__ = "ModelRun.to_dataframe"
        return build()

    # -- instance methods ----------------------------------------------------------------------------

    @seed_operation(fallback=None)
    def update(self, model_run_info: dict = None) -> Optional["ModelRun"]:
        """Replace this run's info; ``None`` (nothing changed) when no info is given or it would
        duplicate another run of the same model."""
        if model_run_info is None:
            raise InvalidInputError("nothing to update: model_run_info is required")
        return self._apply(registry().replace_run_info(run_id=self.id, model_run_info=model_run_info))

    @seed_operation(fallback=None)
    def rename(self, run_name: Optional[str]) -> Optional["ModelRun"]:
        """Give this run the readable name ``run_name`` (``None`` removes it); returns the run, or ``None``
        (nothing changed) when the name is refused: blank, longer than 255 characters, or holding a control
        character or a line break. Names need not be unique; search them with ``where='name = "..."'``."""
        return self._apply(registry().rename_run(run_id=self.id, run_name=run_name))

    @seed_operation(fallback=False)
    def delete(self) -> bool:
        registry().delete_run(run_id=self.id)
        return True

    @seed_operation(fallback=None)
    def refresh(self) -> Optional["ModelRun"]:
        """Reload this run from the database (the API does not reload on attribute access)."""
        return self._apply(registry().get_run(run_id=self.id))

    @seed_operation(fallback=None)
    def get_info(self) -> Optional[dict]:
        """The run's info as stored now (``{}`` for a run without info)."""
        return self._apply(registry().get_run(run_id=self.id)).model_run_info

    @seed_operation(fallback=None)
    def set_info(self, model_run_info: dict) -> Optional["ModelRun"]:
        """Replace this run's info; same rules as ``update``."""
        return self._apply(registry().replace_run_info(run_id=self.id, model_run_info=model_run_info))

    # -- model association ---------------------------------------------------------------------------

    @seed_operation(fallback=None)
    def associate_model(self, model_name: str) -> Optional["Model"]:
        """Move this run to the model ``model_name``; returns that model."""
        run, model = registry().associate_run(run_id=self.id, model_name=model_name)
        self._apply(run)
        return _model.Model.from_record(model)

    @seed_operation(fallback=None)
    def unassociate_model(self) -> Optional["Model"]:
        """Detach this run from its model; returns the model it left."""
        run, model = registry().unassociate_run(run_id=self.id)
        self._apply(run)
        return _model.Model.from_record(model)

    @seed_operation(fallback=False)
    def belongs_to_model(self, model_name: str) -> bool:
        return registry().run_belongs_to_model(run_id=self.id, model_name=model_name)

    @seed_operation(fallback=None)
    def get_associated_model(self) -> Optional["Model"]:
        return _model.Model.from_record(registry().get_run_model(run_id=self.id))

    # -- model versions ------------------------------------------------------------------------------

    @seed_operation(fallback=None)
    def register_version(self, artifact_name: str, version_info: dict = None) -> Optional[ModelVersion]:
        """Register this run's artifact ``artifact_name`` as the next version of its model, its bytes
        pinned as they are now; ``None``, nothing written, when the run has no such artifact."""
        return ModelVersion.from_record(
            registry().register_model_version(run_id=self.id, artifact_name=artifact_name, version_info=version_info)
        )
