"""The integrations cost nothing to import: their frameworks load only when used."""

import subprocess
import sys

import pytest

from tests.integrations.frameworks import require

pytestmark = pytest.mark.integrations

FRAMEWORKS = ("lightning", "ultralytics", "torch")


def modules_loaded_after(statement: str) -> set[str]:
    probe = f"import sys\n{statement}\nprint(' '.join(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_importing_the_integrations_imports_no_framework():
    loaded = modules_loaded_after("import gemini.integrations.lightning, gemini.integrations.ultralytics")
    assert loaded == set()


def test_importing_the_lightning_logger_class_imports_lightning():
    require("lightning")
    assert "lightning" in modules_loaded_after("from gemini.integrations.lightning import GeminiLogger")


def test_an_unknown_name_of_the_lightning_module_is_an_attribute_error():
    import gemini.integrations.lightning as integration

    with pytest.raises(AttributeError, match="NoSuchLogger"):
        integration.NoSuchLogger
