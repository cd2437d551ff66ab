"""The registry's second floor: its contract (``contract.Registry``), the checking front
(``front.CheckedRegistry``) and ``registry()``, which hands out the front over the transport the
settings choose.

    from gemini.registry import registry

    run, created = registry().create_run(model_run_info={"lr": 0.01}, model_name="stand-counter")

With ``GEMINI_API_URL`` set the transport is the server's (``gemini.remote``); otherwise the database
``GEMINI_DATABASE_URL`` names (``gemini.core``). The choice is made once per configuration, at first
use and again only when a ``GEMINI_*`` variable changes; the transport not chosen is never imported, so
a client pointed at a server loads no database code.
"""

from __future__ import annotations

import threading

from gemini.config import Settings, get_settings
from gemini.domain.errors import UnsupportedOperationError
from gemini.registry.contract import Registry
from gemini.registry.front import CheckedRegistry

_DATABASE_PACKAGES = frozenset({"sqlalchemy", "alembic", "psycopg"})

_chosen: dict[int, tuple[Settings, CheckedRegistry]] = {}
_chosen_lock = threading.Lock()


def registry() -> CheckedRegistry:
    """The registry of the current configuration: checks, then the database or the server."""
    settings = get_settings()  # the same object while the environment is unchanged
    found = _chosen.get(id(settings))
    if found is not None and found[0] is settings:
        return found[1]
    with _chosen_lock:
        chosen = CheckedRegistry(_transport(settings))
        _chosen[id(settings)] = (settings, chosen)
    return chosen


def _transport(settings: Settings) -> Registry:
    if settings.remote:
        from gemini.remote.transport import HttpRegistry

        return HttpRegistry()
    return database_transport()


def database_transport() -> Registry:
    """The database transport, whatever ``GEMINI_API_URL`` says (the server's own handlers use it)."""
    try:
        from gemini.core.transport import DatabaseRegistry
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in _DATABASE_PACKAGES:
            raise
        raise UnsupportedOperationError(
            f"a registry on a database of its own needs gemini's database packages ({exc.name} is not "
            "installed): pip install 'gemini-model-registry[local]', or set GEMINI_API_URL to work through a "
            "server"
        ) from exc
    return DatabaseRegistry()


def remote() -> bool:
    """Whether operations go to a server now (``GEMINI_API_URL``)."""
    return get_settings().remote


def require_database(what: str) -> None:
    """``UnsupportedOperationError`` when operations go to a server: for the commands that administer a
    database itself (migrations, indexes, garbage collection)."""
    if remote():
        raise UnsupportedOperationError(
            f"{what} works on the database itself, not through the server GEMINI_API_URL names: "
            "unset GEMINI_API_URL to run it on the database GEMINI_DATABASE_URL names"
        )


__all__ = ["CheckedRegistry", "Registry", "database_transport", "registry", "remote", "require_database"]
