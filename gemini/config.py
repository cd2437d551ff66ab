"""Settings, read from the environment when asked for (never at import time)."""

import os
import re
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MAX_INFO_BYTES = 1024 * 1024
DEFAULT_HEARTBEAT_TIMEOUT = 300.0
DEFAULT_MAX_ARTIFACT_BYTES = 5 * 1024**3


def default_database_url() -> str:
    """An SQLite file in the user's data directory, e.g. ``~/.local/share/gemini/gemini.db``."""
    path = Path(platformdirs.user_data_dir("gemini", appauthor=False)) / "gemini.db"
    return f"sqlite:///{path}"


def default_artifact_root(database_url: str) -> Path:
    """Where a registry keeps its artifacts when ``GEMINI_ARTIFACT_ROOT`` is not set.

    An SQLite file registry keeps them beside its file (``gemini.db`` -> ``gemini.db-artifacts/``); any
    other registry, in the user data directory under a folder named after the server and database, so
    that two registries never share a store (each removes the blobs its own runs no longer use).
    """
    from sqlalchemy.engine import make_url  # only the server side resolves a store

    url = make_url(database_url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        return path.parent / f"{path.name}-artifacts"
    place = "-".join(str(part) for part in (url.get_backend_name(), url.host, url.port, database) if part)
    return Path(platformdirs.user_data_dir("gemini", appauthor=False)) / "artifacts" / re.sub(r"[^\w.-]", "_", place)


def default_spool_path() -> Path:
    """Where a client keeps what it could not send to the server, e.g. ``~/.local/share/gemini/spool.sqlite``."""
    return Path(platformdirs.user_data_dir("gemini", appauthor=False)) / "spool.sqlite"


class Settings(BaseSettings):
    """Every knob of gemini, each overridable by a ``GEMINI_*`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="GEMINI_", extra="ignore")

    database_url: str = ""
    """SQLAlchemy URL; empty means the embedded SQLite default."""

    max_info_bytes: int = DEFAULT_MAX_INFO_BYTES
    """Largest accepted info, measured as its compact UTF-8 JSON text."""

    api_token: str = ""
    """The server's admin token. When set, REST writes need a token (this one or a per-user token). A
    client (``GEMINI_API_URL``) sends it to the server as ``Authorization: Bearer <token>``."""

    require_token_for_reads: bool = False
    """When true, REST reads need a token too (of scope ``read`` or more); ``gemini serve --private``."""

    api_url: str = ""
    """The registry's server (``http://registry.lab:7777``); when set, the Python API and the CLI work
    over its REST API instead of opening a database. Empty means local."""

    api_timeout: float = 30.0
    """Seconds a client waits for the server to connect or answer before giving up on a request."""

    api_retries: int = 4
    """How many times a client repeats a request that may safely be repeated (exponential backoff)."""

    spool_path: str = ""
    """The offline spool of tracked runs; empty means ``spool.sqlite`` in the user's data directory."""

    cors_origins: str = ""
    """Browser origins allowed to call the REST API from other pages: ``*``, or origins separated by
    commas (``http://localhost:3000,https://gemini.example.org``). Empty (the default): none."""

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]

    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT
    """Seconds without a heartbeat after which a ``running`` tracked run is reported as ``lost``."""
    system_metrics_interval: float = Field(default=15.0, gt=0)
    """Seconds between two samples of the machine's CPU, memory and GPUs while a tracked run trains."""
    artifact_root: str = ""
    """Where blobs (artifacts, model versions, record files) are kept: a directory, or an S3-compatible
    bucket as ``s3://BUCKET/PREFIX`` (endpoint and credentials from the standard AWS variables). Empty
    means a directory beside the registry (``default_artifact_root``)."""

    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES
    """Largest accepted artifact, in bytes."""

    presigned_urls: bool = True
    """With an ``s3://`` store, whether the server hands clients presigned URLs, so that bytes go between
    them and the bucket directly; false when clients cannot reach the bucket (the server streams)."""

    presigned_url_seconds: int = Field(default=900, gt=0)
    """How long a presigned URL stays valid; a client asks for one just before it uses it."""

    artifact_gc_grace_seconds: float = Field(default=86400.0, ge=0)
    """``gemini db gc`` on an ``s3://`` store keeps unreferenced blobs younger than this: they may be
    uploads whose record is still on its way."""

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()

    @property
    def artifact_root_is_bucket(self) -> bool:
        return self.artifact_root.strip().lower().startswith("s3://")

    @property
    def resolved_artifact_root(self) -> Path:
        """The store's directory (for a bucket, see ``artifact_root``)."""
        if self.artifact_root_is_bucket:
            raise ValueError(f"the artifact store is a bucket ({self.artifact_root}), not a directory")
        if self.artifact_root:
            return Path(self.artifact_root).expanduser()
        return default_artifact_root(self.resolved_database_url)

    @property
    def remote(self) -> bool:
        """Whether operations go to a server (``GEMINI_API_URL``) rather than to a database."""
        return bool(self.api_url.strip())

    @property
    def resolved_spool_path(self) -> Path:
        return Path(self.spool_path) if self.spool_path else default_spool_path()


_ENVIRONMENT_NAMES = tuple(f"GEMINI_{name.upper()}" for name in Settings.model_fields)


def get_settings() -> Settings:
    """The settings for the current environment: a change to a ``GEMINI_*`` variable is seen at once.

    Called on every operation, so it only reads the few variables it needs and reuses the parsed
    settings while they are unchanged.
    """
    return _settings_for(tuple(os.environ.get(name) for name in _ENVIRONMENT_NAMES))


@lru_cache(maxsize=16)
def _settings_for(environment: tuple[str | None, ...]) -> Settings:
    return Settings()
