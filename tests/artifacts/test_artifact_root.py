"""Where the artifact store is when GEMINI_ARTIFACT_ROOT does not say."""

from pathlib import Path

import platformdirs

from gemini.config import Settings, default_artifact_root


def test_an_sqlite_registry_keeps_its_artifacts_beside_its_file(tmp_path):
    assert default_artifact_root(f"sqlite:///{tmp_path / 'gemini.db'}") == tmp_path / "gemini.db-artifacts"


def test_a_postgresql_registry_keeps_them_in_the_user_data_directory_per_database():
    root = default_artifact_root("postgresql+psycopg://gemini@db.example.org:5433/registry")
    assert root == Path(platformdirs.user_data_dir("gemini", appauthor=False)) / "artifacts" / (
        "postgresql-db.example.org-5433-registry"
    )


def test_two_postgresql_databases_get_two_stores():
    assert default_artifact_root("postgresql://h/one") != default_artifact_root("postgresql://h/two")


def test_gemini_artifact_root_overrides_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("GEMINI_ARTIFACT_ROOT", str(tmp_path / "store"))
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{tmp_path / 'gemini.db'}")
    assert Settings().resolved_artifact_root == tmp_path / "store"
