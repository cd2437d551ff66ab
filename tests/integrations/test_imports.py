"""The integrations cost nothing to import: their frameworks load only when used."""

import re
import subprocess
import sys
from importlib import metadata

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


def import_failure(blocked: str, statement: str) -> str:
    """What ``statement`` raises in a process where ``blocked`` cannot be imported (installed or not)."""
    probe = (
        f"import sys\nsys.modules[{blocked!r}] = None\n"
        f"try:\n    {statement}\nexcept BaseException as exc:\n    print(type(exc).__name__ + ': ' + str(exc))"
    )
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()


def assert_names_the_extra(failure: str, extra: str) -> None:
    """The message ends with ``pip install '<distribution>[<extra>]'``, naming the installed distribution
    of gemini, which offers that extra."""
    found = re.search(r"install it with pip install '([^'\[]+)\[([a-z]+)\]'$", failure)
    assert found is not None, failure
    distribution, named_extra = found.groups()
    assert named_extra == extra
    assert extra in (metadata.metadata(distribution).get_all("Provides-Extra") or [])
    assert distribution in metadata.packages_distributions()["gemini"]


def test_the_lightning_logger_without_lightning_says_which_extra_installs_it():
    failure = import_failure("lightning", "from gemini.integrations.lightning import GeminiLogger")
    assert failure.startswith("ImportError: GeminiLogger needs PyTorch Lightning, which is not installed")
    assert_names_the_extra(failure, "lightning")


def test_track_yolo_without_ultralytics_says_which_extra_installs_it():
    failure = import_failure("ultralytics", "from gemini.integrations.ultralytics import track_yolo; track_yolo(object())")
    assert failure.startswith("ImportError: track_yolo needs Ultralytics, which is not installed")
    assert_names_the_extra(failure, "ultralytics")
