"""A client pointed at a server loads no database or server code: run with those packages unimportable."""

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

SERVER_PACKAGES = ("sqlalchemy", "alembic", "psycopg", "fastapi", "uvicorn", "starlette")

# Installed before gemini is imported: any attempt to import a server package fails loudly.
BLOCKER = textwrap.dedent(
    f"""
    import sys

    class RefuseServerPackages:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {SERVER_PACKAGES!r}:
                raise ImportError(f"the client imported {{name}}")
            return None

    sys.meta_path.insert(0, RefuseServerPackages())
    """
)


def run_client(script: str, *, server_url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    environment = {
        "GEMINI_API_URL": server_url,
        "GEMINI_SPOOL_PATH": str(tmp_path / "spool.sqlite"),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_python_api_works_through_a_server_without_any_server_package(remote_registry, tmp_path):
    result = run_client(
        """
        from gemini.api.experiment import Experiment
        from gemini.api.model import Model
        from gemini.api.model_run import ModelRun

        Experiment.create(experiment_name="imports-exp")
        model = Model.create(model_name="imports-model", experiment_name="imports-exp")
        run = ModelRun.create(model_run_info={"lr": 0.5}, model_name="imports-model")
        assert run.model_id == model.id, run
        assert ModelRun.get(model_run_info={"lr": 0.5}, model_name="imports-model").id == run.id
        assert [r.id for r in ModelRun.search(where="lr > 0.1", model_name="imports-model")] == [run.id]
        assert model.belongs_to_experiment("imports-exp")
        assert run.delete() and model.delete()
        print("ok")
        """,
        server_url=remote_registry.url,
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_cli_works_through_a_server_without_any_server_package(remote_registry, tmp_path):
    result = run_client(
        """
        import sys
        from gemini.cli.main import cli

        sys.argv = ["gemini", "models", "create", "imports-cli-model", "--json"]
        try:
            cli()
        except SystemExit as exit:
            assert not exit.code, exit.code
        """,
        server_url=remote_registry.url,
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert '"model_name": "imports-cli-model"' in result.stdout


def test_the_blocker_does_refuse_a_server_package(remote_registry, tmp_path):
    result = run_client("import sqlalchemy", server_url=remote_registry.url, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "the client imported sqlalchemy" in result.stderr


def test_the_base_install_depends_on_no_server_package_and_no_postgresql_driver():
    # SQLAlchemy and Alembic are in it, for the embedded SQLite registry; the tests above show that a client
    # pointed at a server still never imports them.
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    names = {requirement.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for requirement in project["dependencies"]}
    assert names.isdisjoint({"psycopg", "fastapi", "uvicorn", "starlette"}), names
    assert {"httpx", "sqlalchemy", "alembic"} <= names
