"""Settings, read from the environment when asked for (never at import time)."""

import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MAX_INFO_BYTES = 1024 * 1024
DEFAULT_HEARTBEAT_TIMEOUT = 300.0


def default_database_url() -> str:
    """An SQLite file in the user's data directory, e.g. ``~/.local/share/gemini/gemini.db``."""
    path = Path(platformdirs.user_data_dir("gemini", appauthor=False)) / "gemini.db"
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """Every knob of gemini, each overridable by a ``GEMINI_*`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="GEMINI_", extra="ignore")

    database_url: str = ""
    """SQLAlchemy URL; empty means the embedded SQLite default."""

    max_info_bytes: int = DEFAULT_MAX_INFO_BYTES
    """Largest accepted info, measured as its compact UTF-8 JSON text."""

    api_token: str = ""
    """When set, REST writes need ``Authorization: Bearer <token>``."""

    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT
    """Seconds without a heartbeat after which a ``running`` tracked run is reported as ``lost``."""

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()


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
