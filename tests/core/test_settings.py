from gemini.config import default_database_url, get_settings


def test_settings_follow_the_environment_as_it_changes(monkeypatch):
    monkeypatch.delenv("GEMINI_DATABASE_URL", raising=False)
    assert get_settings().resolved_database_url == default_database_url()
    monkeypatch.setenv("GEMINI_DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    monkeypatch.setenv("GEMINI_MAX_INFO_BYTES", "123")
    assert get_settings().resolved_database_url == "sqlite:////tmp/elsewhere.db"
    assert get_settings().max_info_bytes == 123


def test_the_default_database_is_an_sqlite_file_in_the_user_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_database_url() == f"sqlite:///{tmp_path / 'gemini' / 'gemini.db'}"
