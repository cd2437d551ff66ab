"""The floors import only downwards (docs/architecture.md): the ground floor, the contract and the HTTP\ntransport load no database or server package, the database transport no HTTP client."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gemini"

# Each floor, and the packages it must never import: those above it, and for the ground floor and the
# HTTP transport, the database and the server.
SERVER = ("gemini.rest_api", "gemini.web", "gemini.cli")
FACES = ("gemini.api", "gemini.integrations", *SERVER)
ABOVE = {
    "domain": ("gemini.query", "gemini.registry", "gemini.db", "gemini.core", "gemini.remote", "gemini.tracking", "gemini.storage", *FACES, "sqlalchemy", "httpx", "fastapi"),
    "query": ("gemini.registry", "gemini.db", "gemini.core", "gemini.remote", "gemini.tracking", *FACES),
    "registry": ("gemini.db", "gemini.core", "gemini.remote", "gemini.tracking", "gemini.storage", *FACES, "sqlalchemy", "httpx", "fastapi"),
    "db": ("gemini.registry", "gemini.core", "gemini.remote", "gemini.tracking", *FACES),
    "core": ("gemini.remote", "gemini.tracking", *FACES, "httpx"),
    "remote": ("gemini.db", "gemini.core", "gemini.storage", *FACES, "sqlalchemy", "alembic", "psycopg", "fastapi"),
    "tracking": ("gemini.db", "gemini.core", "gemini.remote", "gemini.storage", *FACES, "sqlalchemy", "fastapi"),
    "api": (*SERVER, "gemini.db", "gemini.core", "gemini.remote", "sqlalchemy", "httpx"),
}

# registry() chooses the transport: the one module that names both, each imported only when chosen.
CHOOSER = {"gemini/registry/__init__.py": {"gemini.core.transport", "gemini.remote.transport"}}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_a_layer_imports_nothing_above_it(layer):
    offending = {
        f"{path.relative_to(PACKAGE.parent)}: {name}"
        for path in (PACKAGE / layer).rglob("*.py")
        for name in imported_modules(path)
        if any(name == above or name.startswith(above + ".") for above in ABOVE[layer])
        and name not in CHOOSER.get(str(path.relative_to(PACKAGE.parent)), ())
    }
    assert offending == set()
