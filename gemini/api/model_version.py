"""``ModelVersion``: a numbered version of a model, the bytes of one run's artifact pinned for good, and
the aliases (``production``, ``candidate``) that name it.

    v = run.register_version("weights/best.pt", version_info={"map50": 0.91})
    v.set_alias("production")
    ModelVersion.get("stand_counter@production").download("/srv/models/")

Every method follows the seed: ``None`` (``False`` for yes/no and ``delete``) when the operation fails,
with one log line on the ``gemini.api`` logger saying why; ``get_all`` answers ``[]`` for a model without
versions. Locally and through a server (``GEMINI_API_URL``) alike.
"""

import datetime as dt
import os
from pathlib import Path
from typing import List, Optional, Union
from uuid import UUID

from gemini.api.base import APIBase, seed_operation
from gemini.domain.errors import InvalidInputError
from gemini.domain.records import ModelVersionRecord
from gemini.registry import registry

ID = UUID | int | str
PathLike = Union[str, "os.PathLike[str]"]


class ModelVersion(APIBase):
    """Version ``version`` of the model ``model_name``: the artifact ``artifact_name`` of the run
    ``model_run_id`` as its bytes were when it was registered (``sha256``, ``size``)."""

    id: UUID
    model_id: UUID
    model_name: str
    version: int
    model_run_id: UUID
    artifact_name: str
    sha256: str
    size: int
    version_info: dict
    aliases: List[str]
    created_at: dt.datetime
    created_by: Optional[str] = None
    """The name of the API token that registered it over a team server; None when registered locally."""

    @classmethod
    def from_record(cls, record: ModelVersionRecord) -> "ModelVersion":
        return cls(
            id=record.id,
            model_id=record.model_id,
            model_name=record.model_name,
            version=record.version,
            model_run_id=record.model_run_id,
            artifact_name=record.artifact_name,
            sha256=record.sha256,
            size=record.size,
            version_info=record.version_info,
            aliases=list(record.aliases),
            created_at=record.created_at,
            created_by=record.created_by,
        )

    def _apply(self, record: ModelVersionRecord) -> "ModelVersion":
        self.version_info = record.version_info
        self.aliases = list(record.aliases)
        return self

    # -- class methods -------------------------------------------------------------------------------

    @classmethod
    @seed_operation(fallback=None)
    def create(cls, model_run_id: ID, artifact_name: str, version_info: dict = None) -> Optional["ModelVersion"]:
        """Register the run's artifact ``artifact_name`` as the next version of the run's model (1, 2, 3,
        ...); ``None``, nothing written, for a run or an artifact that does not exist."""
        return cls.from_record(
            registry().register_model_version(run_id=model_run_id, artifact_name=artifact_name, version_info=version_info)
        )

    @classmethod
    @seed_operation(fallback=None)
    def get(cls, model_name: str, version: int = None, alias: str = None) -> Optional["ModelVersion"]:
        """The version of ``model_name`` numbered ``version``, or holding ``alias`` (``"latest"``: the
        highest number). Without either, ``model_name`` is a reference: ``"stand_counter@production"``,
        ``"stand_counter@3"``, ``"stand_counter@latest"``."""
        if version is None and alias is None:
            return cls.from_record(registry().find_model_version(reference=model_name))
        return cls.from_record(registry().find_model_version(model_name=model_name, version=version, alias=alias))

    @classmethod
    @seed_operation(fallback=None)
    def get_by_id(cls, id: ID) -> Optional["ModelVersion"]:
        return cls.from_record(registry().get_model_version(version_id=id))

    @classmethod
    @seed_operation(fallback=None)
    def get_all(cls, model_name: str) -> Optional[List["ModelVersion"]]:
        """The model's versions by ascending number; ``[]`` when it has none, ``None`` when the model does
        not exist (or the read fails)."""
        return [cls.from_record(record) for record in registry().list_model_versions(model_name=model_name)]

    # -- instance methods ----------------------------------------------------------------------------

    @seed_operation(fallback=False)
    def set_alias(self, alias: str) -> bool:
        """Give this version ``alias``; the version of the same model that held it loses it, in the same
        step. An alias has ASCII letters, digits, ``-`` and ``_``, starts with a letter and has at most 64
        characters; ``latest`` and numbers are refused."""
        self._apply(registry().set_model_version_alias(version_id=self.id, alias=alias))
        return True

    @seed_operation(fallback=False)
    def remove_alias(self, alias: str) -> bool:
        """Take ``alias`` from this version; ``False`` when it does not hold it."""
        self._apply(registry().remove_model_version_alias(version_id=self.id, alias=alias))
        return True

    @seed_operation(fallback=None)
    def set_info(self, version_info: dict) -> Optional["ModelVersion"]:
        """Replace this version's info; returns this version, updated."""
        if version_info is None:
            raise InvalidInputError("version_info is required")
        return self._apply(registry().update_model_version(version_id=self.id, version_info=version_info))

    @seed_operation(fallback=None)
    def download(self, dest: Optional[PathLike] = None) -> Optional[Path]:
        """Write this version's bytes to ``dest`` (a file path, or a directory to write into under the
        artifact's base name; default: the current directory) and return the path written. The bytes are
        the ones pinned at registration, checked against their SHA-256 before the file appears."""
        return registry().download_model_version(version_id=self.id, dest=dest)

    @seed_operation(fallback=False)
    def delete(self) -> bool:
        """Delete this version; refused (``False``) while it holds an alias. Its number is not reused."""
        registry().delete_model_version(version_id=self.id)
        return True
