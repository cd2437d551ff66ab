"""The frameworks of the trainer integration tests, and the settings that keep them offline.

The tests run in the virtualenv of ``make test-integrations``, which sets
``GEMINI_INTEGRATION_TESTS=required``: there a framework that does not import is an error. Elsewhere (the
main virtualenv has no framework) the tests that need one are skipped.
"""

import importlib
import os
import shutil
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

REQUIRED = os.environ.get("GEMINI_INTEGRATION_TESTS") == "required"

# Ultralytics reads these when it is first imported. YOLO_OFFLINE skips its connectivity probe (and with
# it the update check, usage events and crash reports); a settings directory of the tests' own keeps the
# user's settings out, and a font already in it spares the plots a font download.
_ULTRALYTICS_CONFIG = Path(tempfile.mkdtemp(prefix="gemini-yolo-config-"))
os.environ["YOLO_OFFLINE"] = "1"
os.environ["YOLO_CONFIG_DIR"] = str(_ULTRALYTICS_CONFIG)


def require(module: str) -> ModuleType:
    """Import ``module``; skip the calling test module when it is missing, unless the tests are required."""
    if REQUIRED:
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} is not installed; `make test-integrations` runs these")


def provide_plot_font() -> None:
    """Put matplotlib's DejaVu Sans where Ultralytics looks for its label font before downloading it."""
    import matplotlib

    settings_dir = _ULTRALYTICS_CONFIG / "Ultralytics"
    settings_dir.mkdir(parents=True, exist_ok=True)
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    shutil.copyfile(font, settings_dir / "Arial.ttf")


def remove_ultralytics_config() -> None:
    shutil.rmtree(_ULTRALYTICS_CONFIG, ignore_errors=True)
