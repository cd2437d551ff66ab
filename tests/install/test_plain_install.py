"""`pip install` of the project without extras, into a fresh virtualenv, runs what the README promises on the
embedded SQLite default: its first Python snippet, a tracked run, and `gemini runs list`.

The install is the real one (non-editable, the project's own metadata, pip's resolver), from a copy of the
sources, so that building writes nothing into the working tree. pip uses the machine's index and cache.
When it cannot reach an index the tests are skipped with the reason, except under ``CI=true``, where that
is a failure.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
INSTALL_TIMEOUT_S = 900
# What pip prints when it cannot reach an index: the machine's state, not the project's. A requirement no
# index has ("No matching distribution") is not in it: that is the project's to fix, and fails.
INDEX_UNREACHABLE = re.compile(
    r"Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|"
    r"Network is unreachable|Connection refused|Max retries exceeded|Could not fetch URL"
)
# Packages of the extras: the plain install must do without them.
EXTRAS_ONLY = ("psycopg", "fastapi", "uvicorn", "boto3", "pandas")
RUN_REPR = re.compile(r"ModelRun\(id=UUID\('[0-9a-f-]{36}'\), model_id=UUID\('[0-9a-f-]{36}'\), .*\)\n")
# Nothing listens on the discard port; the driver is missing before any connection is tried anyway.
POSTGRESQL_URL = "postgresql://gemini@127.0.0.1:9/gemini"


@dataclass
class PlainInstall:
    venv: Path
    home: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def environment(self) -> dict[str, str]:
        """Only HOME: the registry lands in its default place, ``~/.local/share/gemini/gemini.db``."""
        return {"HOME": str(self.home), "PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "LANG": "C.UTF-8"}

    def run(
        self, *command: str | Path, stdin: str | None = None, environment: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(part) for part in command],
            input=stdin,
            env={**self.environment(), **(environment or {})},
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def python_script(self, script: str, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return self.run(self.python, "-", stdin=script, environment=environment)

    def gemini(self, *arguments: str, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return self.run(self.venv / "bin" / "gemini", *arguments, environment=environment)


def index_unreachable(output: str) -> None:
    message = (
        "pip could not install the project's dependencies into a fresh virtualenv: no package index "
        f"answered. Give this machine an index (or a pip cache/--find-links with them) to run these tests.\n{output}"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def copy_sources(destination: Path) -> Path:
    """What a build reads (pyproject.toml, README.md, the package), without caches."""
    destination.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, destination / name)
    shutil.copytree(ROOT / "gemini", destination / "gemini", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> PlainInstall:
    where = tmp_path_factory.mktemp("plain-install")
    sources = copy_sources(where / "src")
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-input", str(sources)],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    output = installed.stdout + installed.stderr
    if installed.returncode != 0:
        if INDEX_UNREACHABLE.search(output):
            index_unreachable(output)
        pytest.fail(f"pip install of the project without extras failed:\n{output}", pytrace=False)
    home = where / "home"
    home.mkdir()
    return PlainInstall(venv=venv, home=home)


def readme_first_python_snippet() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), flags=re.MULTILINE | re.DOTALL)
    assert blocks, "README.md has no Python snippet"
    return blocks[0]


def test_only_a_connection_failure_counts_as_no_index():
    refused = (
        "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection "
        "broken by 'NewConnectionError('<HTTPConnection object>: Failed to establish a new connection: [Errno 111] "
        "Connection refused')': /simple/pydantic/\n"
        "ERROR: No matching distribution found for pydantic<3,>=2.6"
    )
    assert INDEX_UNREACHABLE.search(refused)
    assert not INDEX_UNREACHABLE.search("ERROR: No matching distribution found for pydantc<3,>=2.6")


def test_the_plain_install_is_the_project_under_its_distribution_name(plain):
    result = plain.python_script(
        textwrap.dedent(
            """
            import importlib.util, json
            from importlib import metadata
            print(json.dumps({
                "distributions": metadata.packages_distributions()["gemini"],
                "version": metadata.version(%r),
                "present": [name for name in %r if importlib.util.find_spec(name)],
            }))
            """
            % (PROJECT["name"], EXTRAS_ONLY)
        )
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert set(found["distributions"]) == {PROJECT["name"]}
    assert found["version"] == PROJECT["version"]
    assert found["present"] == [], "the plain install brought packages that belong to extras"


def test_the_readme_first_snippet_runs_on_the_sqlite_default(plain):
    result = plain.python_script(readme_first_python_snippet())
    assert result.returncode == 0, result.stderr
    assert "failed" not in result.stderr, result.stderr  # the facade's log line when an operation fails
    assert RUN_REPR.fullmatch(result.stdout), result.stdout
    assert (plain.home / ".local" / "share" / "gemini" / "gemini.db").is_file()


def test_a_tracked_run_records_its_metrics_on_the_sqlite_default(plain):
    result = plain.python_script(
        textwrap.dedent(
            """
            import json
            from gemini.api.model_run import ModelRun

            with ModelRun.track(model_run_info={"params": {"lr": 0.02}}, model_name="plain_counter") as run:
                for epoch in range(3):
                    run.log_metrics({"loss": 1.0 / (epoch + 1), "map50": 0.3 * (epoch + 1)}, step=epoch)
            found = ModelRun.search(where='max(metric.map50) > 0.8 and status = "finished"', model_name="plain_counter")
            print(json.dumps({
                "id": str(run.id),
                "status": run.status,
                "history": [[point["step"], point["value"]] for point in run.get_metric_history("map50")],
                "found": [str(r.id) for r in found],
            }))
            """
        )
    )
    assert result.returncode == 0, result.stderr
    tracked = json.loads(result.stdout)
    assert tracked["status"] == "finished"
    assert tracked["history"] == [[0, pytest.approx(0.3)], [1, pytest.approx(0.6)], [2, pytest.approx(0.9)]]
    assert tracked["found"] == [tracked["id"]]


def test_gemini_runs_list_shows_the_runs_the_python_api_recorded(plain):
    recorded = plain.python_script(
        textwrap.dedent(
            """
            from gemini.api.model import Model
            from gemini.api.model_run import ModelRun

            Model.create(model_name="listed_counter", model_info={"architecture": "yolo"})
            print(ModelRun.create(model_run_info={"params": {"lr": 0.5}}, model_name="listed_counter").id)
            """
        )
    )
    assert recorded.returncode == 0, recorded.stderr
    run_id = recorded.stdout.strip()

    table = plain.gemini("runs", "list", "--model", "listed_counter")
    assert table.returncode == 0, table.stderr
    assert run_id in table.stdout
    listed = plain.gemini("runs", "list", "--model", "listed_counter", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [run["id"] for run in json.loads(listed.stdout)] == [run_id]


@pytest.mark.parametrize(
    ("arguments", "environment", "extra"),
    [
        (("runs", "list"), {"GEMINI_DATABASE_URL": POSTGRESQL_URL}, "local"),
        (("runs", "export", "--format", "parquet", "--output", "runs.parquet"), {}, "export"),
        (("serve", "--port", "9"), {}, "server"),
        (("db", "gc"), {"GEMINI_ARTIFACT_ROOT": "s3://lab/gemini"}, "s3"),
    ],
    ids=["postgresql", "parquet", "serve", "bucket"],
)
def test_a_command_that_needs_an_extra_says_which_in_one_line(plain, arguments, environment, extra):
    result = plain.gemini(*arguments, environment=environment)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"pip install '{PROJECT['name']}[{extra}]'" in result.stderr


def test_the_python_api_on_postgresql_without_its_driver_says_which_extra_to_install(plain):
    result = plain.python_script(
        textwrap.dedent(
            """
            from gemini.api.model_run import ModelRun

            print(ModelRun.create(model_run_info={"params": {"lr": 0.01}}, model_name="stand_counter"))
            """
        ),
        environment={"GEMINI_DATABASE_URL": POSTGRESQL_URL},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "None\n"  # the seed's answer when an operation fails, with one log line
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("ModelRun.create failed: ")
    assert f"pip install '{PROJECT['name']}[local]'" in result.stderr
