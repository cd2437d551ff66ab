"""Where the registry's operations run: here, on the database, or on the server ``GEMINI_API_URL`` names.

The Python API and the CLI call ``model_runs.create_run(...)``, ``models.get_model(...)``, ... on the
objects below. Each call goes to the ``gemini.core`` module of that name, or, when ``GEMINI_API_URL`` is
set, to the ``gemini.remote`` module of that name: the same functions, arguments, records and errors.
The choice is made on every call, from the environment as it is then; the module not chosen is never
imported, so a client pointed at a server loads no database code at all.
"""

import importlib
from types import ModuleType
from typing import Any

from gemini.config import get_settings
from gemini.errors import UnsupportedOperationError


_DATABASE_PACKAGES = frozenset({"sqlalchemy", "alembic", "psycopg"})


class Operations:
    """The functions of one ``gemini.core`` module, run locally or on the configured server."""

    def __init__(self, name: str, *, local_only: bool = False) -> None:
        self._name = name
        self._local_only = local_only

    def module(self) -> ModuleType:
        if get_settings().remote:
            if self._local_only:
                raise UnsupportedOperationError(
                    f"this works on the database itself, not through the server GEMINI_API_URL names: "
                    f"unset GEMINI_API_URL to run it on the database GEMINI_DATABASE_URL names"
                )
            return importlib.import_module(f"gemini.remote.{self._name}")
        try:
            return importlib.import_module(f"gemini.core.{self._name}")
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] not in _DATABASE_PACKAGES:
                raise
            raise UnsupportedOperationError(
                f"a registry on a database of its own needs gemini's database packages ({exc.name} is not "
                "installed): pip install 'gemini[local]', or set GEMINI_API_URL to work through a server"
            ) from exc

    def __getattr__(self, function: str) -> Any:
        return getattr(self.module(), function)

    def __repr__(self) -> str:
        return f"<gemini operations {self._name!r}>"


def remote() -> bool:
    """Whether operations go to a server now."""
    return get_settings().remote


model_runs = Operations("model_runs")
models = Operations("models")
experiments = Operations("experiments")
run_export = Operations("run_export")
artifacts = Operations("artifacts")
tracking = Operations("tracking")
database = Operations("database", local_only=True)
transfer = Operations("transfer", local_only=True)
info_indexes = Operations("info_indexes", local_only=True)
tokens = Operations("tokens", local_only=True)
