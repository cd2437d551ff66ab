"""The layers import only downwards: the database layer and the query language know nothing above them."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gemini"

# Each layer, and the packages above it that it must never import.
ABOVE = {
    "query": ("gemini.db", "gemini.core", "gemini.api", "gemini.rest_api", "gemini.cli", "gemini.remote", "gemini.web"),
    "db": ("gemini.core", "gemini.api", "gemini.rest_api", "gemini.cli", "gemini.remote", "gemini.web"),
    "core": ("gemini.api", "gemini.rest_api", "gemini.cli", "gemini.remote", "gemini.web"),
}


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
    }
    assert offending == set()
