"""Model versions and aliases in ``gemini db export`` / ``gemini db import``: they move with their ids,
numbers, aliases and infos, an import adds them once, and the per-model counter travels so that numbering
continues without giving a number twice.

Export and import run on a database (a server's operator runs them there), so these tests take the
databases themselves rather than this directory's ``db`` (which includes a server).
"""

import json
import shutil

import pytest

from gemini.domain.errors import ConflictError, InvalidInputError
from gemini.registry import registry
from tests.conftest import empty_registry
from tests.transfer_support import body_lines, export_text, import_text, local_file, use_registry

ODD_INFO = {"map50": 0.91, "big": 2**64 + 1, "tiny": 5e-324, "neg": -0.0, "ключ": ["🌽", None, True], "sql": "'; DROP TABLE x; --"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def target(request, monkeypatch, tmp_path) -> str:
    """An empty registry on each database kind, made the configured one, with its own artifact store."""
    return empty_registry(request.getfixturevalue(f"{request.param}_database_url"), monkeypatch, tmp_path / "target-store")












def _register(tmp_path, model_name: str, content: bytes, info: dict | None = None, **options):  # noqa: ANN001, ANN202
    """A new run of the model that logged ``content`` as weights/best.pt, registered as its next version."""
    run, _ = registry().create_run(model_run_info={"weights": content.decode()}, model_name=model_name)
    registry().log_artifact_file(run_id=run.id, path=local_file(tmp_path, content.decode(), content), name="weights/best.pt")
    return registry().register_model_version(run_id=run.id, artifact_name="weights/best.pt", version_info=info, **options)


def _populate(tmp_path) -> None:  # noqa: ANN001
    """stand_counter: versions 1-3 (4 was deleted), production on 2, candidate on 3; detector: one
    version by alice; unused: a model without versions."""
    registry().create_model(model_name="unused")
    for number in range(1, 5):
        _register(tmp_path, "stand_counter", f"counter-{number}".encode(), {"n": number, **ODD_INFO})
    registry().set_model_version_alias(version_id=registry().find_model_version(reference="stand_counter@2").id, alias="production")
    registry().set_model_version_alias(version_id=registry().find_model_version(reference="stand_counter@3").id, alias="candidate")
    registry().delete_model_version(version_id=registry().find_model_version(reference="stand_counter@4").id)
    _register(tmp_path, "detector", b"detector-1", created_by="alice")


def _versions() -> dict[str, list]:
    """Every model's versions, each with its id, number, run, artifact, digest, size, info, aliases,
    time and author."""
    return {model.model_name: registry().list_model_versions(model_id=model.id) for model in registry().search_models().items}


@pytest.mark.postgresql
def test_versions_move_sqlite_to_postgresql_and_back_unchanged(tmp_path, new_postgres_database, monkeypatch):
    laptop, server, back = f"sqlite:///{tmp_path / 'laptop.db'}", new_postgres_database(), f"sqlite:///{tmp_path / 'back.db'}"
    use_registry(monkeypatch, laptop, tmp_path / "laptop-store")
    _populate(tmp_path)
    original, original_export = _versions(), export_text()
    assert [version.version for version in original["stand_counter"]] == [1, 2, 3]
    assert [version.aliases for version in original["stand_counter"]] == [(), ("production",), ("candidate",)]
    lines = [json.loads(line) for line in body_lines(original_export)]
    assert sum(line["type"] == "model_version" for line in lines) == 4
    assert sum(line["type"] == "model_version_alias" for line in lines) == 2
    assert {line["model_name"]: line.get("last_version") for line in lines if line["type"] == "model"} == {
        "unused": None, "stand_counter": 4, "detector": 1,
    }

    # The operator copies the artifact store beside the file, as for artifacts.
    shutil.copytree(tmp_path / "laptop-store", tmp_path / "server-store")
    use_registry(monkeypatch, server, tmp_path / "server-store")
    summary = import_text(original_export)
    assert (summary.added.model_versions, summary.added.model_version_aliases) == (4, 2)
    assert _versions() == original
    server_export = export_text()
    assert body_lines(server_export) == body_lines(original_export)
    downloaded = registry().download_model_version(
        version_id=registry().find_model_version(reference="stand_counter@production").id, dest=tmp_path / "production.pt"
    )
    assert downloaded.read_bytes() == b"counter-2"

    shutil.copytree(tmp_path / "server-store", tmp_path / "back-store")
    use_registry(monkeypatch, back, tmp_path / "back-store")
    import_text(server_export)
    assert _versions() == original
    assert body_lines(export_text()) == body_lines(original_export)
    # The infos survived both trips exactly, types included.
    assert [json.dumps(version.version_info) for version in _versions()["stand_counter"]] == [
        json.dumps({"n": number, **ODD_INFO}) for number in (1, 2, 3)
    ]
    # The counter travelled: 4 was deleted before the export and is not given again.
    assert _register(tmp_path, "stand_counter", b"counter-5").version == 5
    assert _register(tmp_path, "detector", b"detector-2").version == 2
    assert _register(tmp_path, "unused", b"unused-1").version == 1


def test_importing_twice_adds_nothing(target, tmp_path, monkeypatch):
    use_registry(monkeypatch, f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "source-store")
    _populate(tmp_path)
    export = export_text()
    use_registry(monkeypatch, target, tmp_path / "target-store")
    first = import_text(export)
    assert (first.added.model_versions, first.added.model_version_aliases) == (4, 2)
    state, state_export = _versions(), body_lines(export_text())
    second = import_text(export)
    assert (second.added.model_versions, second.added.model_version_aliases) == (0, 0)
    assert second.already_present == first.added
    assert _versions() == state
    assert body_lines(export_text()) == state_export


def test_numbering_continues_after_the_highest_even_when_it_was_deleted(target, tmp_path, monkeypatch):
    use_registry(monkeypatch, f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "source-store")
    for number in (1, 2, 3):
        _register(tmp_path, "stand_counter", f"v{number}".encode())
    registry().delete_model_version(version_id=registry().find_model_version(reference="stand_counter@3").id)
    registry().delete_model_version(version_id=registry().find_model_version(reference="stand_counter@2").id)
    export = export_text()
    use_registry(monkeypatch, target, tmp_path / "target-store")
    import_text(export)
    assert [version.version for version in registry().list_model_versions(model_name="stand_counter")] == [1]
    assert registry().find_model_version(reference="stand_counter@latest").version == 1
    assert _register(tmp_path, "stand_counter", b"v4").version == 4
    import_text(export)  # again: the counter does not go back
    assert _register(tmp_path, "stand_counter", b"v5").version == 5


def test_a_model_already_present_by_name_receives_the_versions_and_keeps_its_aliases(target, tmp_path, monkeypatch):
    use_registry(monkeypatch, f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "source-store")
    first = _register(tmp_path, "stand_counter", b"v1")
    second = _register(tmp_path, "stand_counter", b"v2")
    registry().set_model_version_alias(version_id=first.id, alias="production")
    registry().set_model_version_alias(version_id=second.id, alias="candidate")
    export = export_text()

    use_registry(monkeypatch, target, tmp_path / "target-store")
    local = _register(tmp_path, "stand_counter", b"v1")  # the same bytes registered here, as version 1
    registry().set_model_version_alias(version_id=local.id, alias="candidate")
    summary = import_text(export)
    assert (summary.added.models, summary.already_present.models) == (0, 1)
    assert (summary.added.model_versions, summary.already_present.model_versions) == (1, 1)
    assert (summary.added.model_version_aliases, summary.already_present.model_version_aliases) == (1, 1)
    versions = registry().list_model_versions(model_name="stand_counter")
    assert [(version.id, version.version, version.sha256) for version in versions] == [
        (local.id, 1, first.sha256), (second.id, 2, second.sha256),
    ]
    # The alias the target had stays where it was; the one it lacked came, on the version it names.
    assert [version.aliases for version in versions] == [("candidate", "production"), ()]
    assert registry().get_model_by_name(model_name="stand_counter").id == local.model_id
    assert registry().get_run(run_id=second.model_run_id).model_id == local.model_id
    assert _register(tmp_path, "stand_counter", b"v3").version == 3


def test_a_number_taken_by_other_bytes_is_refused_and_nothing_is_written(target, tmp_path, monkeypatch):
    use_registry(monkeypatch, f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "source-store")
    _register(tmp_path, "stand_counter", b"laptop weights")
    export = export_text()
    use_registry(monkeypatch, target, tmp_path / "target-store")
    local = _register(tmp_path, "stand_counter", b"server weights")
    runs_before = registry().search_runs().items
    with pytest.raises(ConflictError, match=r"line \d+: model 'stand_counter' already has a version 1 .* of other bytes"):
        import_text(export)
    assert registry().list_model_versions(model_name="stand_counter") == [local]
    assert registry().search_runs().items == runs_before


def test_a_version_of_a_run_the_target_has_with_equal_info_goes_to_that_run(target, tmp_path, monkeypatch):
    use_registry(monkeypatch, f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "source-store")
    registered = _register(tmp_path, "stand_counter", b"v1")
    export = export_text()
    use_registry(monkeypatch, target, tmp_path / "target-store")
    here, _ = registry().create_run(model_run_info={"weights": "v1"}, model_name="stand_counter")  # the same run, made here
    summary = import_text(export)
    assert (summary.added.model_runs, summary.added.model_versions) == (0, 1)
    (version,) = registry().list_model_versions(model_name="stand_counter")
    assert (version.id, version.model_run_id, version.sha256) == (registered.id, here.id, registered.sha256)
    assert [run.id for run in registry().search_runs(where="version exists").items] == [here.id]


def test_a_registry_without_versions_exports_as_before(target, tmp_path):
    registry().create_run(model_run_info={"a": 1}, model_name="m")
    lines = [json.loads(line) for line in export_text().splitlines()]
    assert lines[0]["version"] == 2
    assert [line["type"] for line in lines[1:]] == ["model", "model_run"]
    assert "last_version" not in lines[1]


def _valid_export(tmp_path, monkeypatch) -> list[str]:  # noqa: ANN001
    use_registry(monkeypatch, f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "source-store")
    version = _register(tmp_path, "m", b"v1")
    registry().set_model_version_alias(version_id=version.id, alias="production")
    lines = export_text().splitlines()
    assert [json.loads(line).get("type") for line in lines] == [None, "model", "model_run", "model_version", "model_version_alias"]
    return lines


def _edit(line: str, **changes) -> str:
    item = json.loads(line)
    item.update(changes)
    return json.dumps({name: value for name, value in item.items() if value is not ...})


@pytest.mark.parametrize(
    ("corrupt", "error", "message"),
    [
        (lambda lines: lines[:3] + [_edit(lines[3], version=0)] + lines[4:], InvalidInputError, "line 4: version must be between 1 and"),
        (lambda lines: lines[:3] + [_edit(lines[3], version="1")] + lines[4:], InvalidInputError, "line 4: version must be an integer"),
        (lambda lines: lines[:3] + [_edit(lines[3], sha256="ABC")] + lines[4:], InvalidInputError, "line 4: sha256 must be 64 lowercase"),
        (lambda lines: lines[:3] + [_edit(lines[3], size=-1)] + lines[4:], InvalidInputError, "line 4: size must be a number of bytes"),
        (lambda lines: lines[:3] + [_edit(lines[3], artifact_name="../x")] + lines[4:], InvalidInputError, "line 4: artifact_name .* '..' part"),
        (lambda lines: lines[:3] + [_edit(lines[3], version_info=[1])] + lines[4:], InvalidInputError, "line 4: version_info must be a JSON object"),
        (lambda lines: lines[:3] + [_edit(lines[3], created_by=...)] + lines[4:], InvalidInputError, "line 4: model_version record: missing created_by"),
        (lambda lines: lines[:3] + [_edit(lines[3], aliases=[])] + lines[4:], InvalidInputError, "line 4: model_version record: unknown aliases"),
        (lambda lines: [lines[0], lines[1], lines[3]], InvalidInputError, "line 3: model run .* is neither earlier in the file nor in the database"),
        (lambda lines: lines[:3] + [lines[4]], InvalidInputError, "line 4: model version .* is neither earlier in the file nor in the database"),
        (lambda lines: lines[:4] + [_edit(lines[4], alias="latest")], InvalidInputError, "line 5: alias 'latest' is reserved"),
        (lambda lines: lines[:4] + [_edit(lines[4], alias="3")], InvalidInputError, "line 5: alias '3' is a number"),
        (lambda lines: [lines[0], _edit(lines[1], last_version=-1)] + lines[2:], InvalidInputError, "line 2: last_version must be an integer"),
        (lambda lines: [lines[0].replace('"version":2', '"version":1')] + lines[1:], InvalidInputError, "line 2: model record: unknown created_by, last_version"),
    ],
)
def test_a_bad_version_line_is_refused_naming_the_line_and_writes_nothing(target, tmp_path, monkeypatch, corrupt, error, message):
    lines = _valid_export(tmp_path, monkeypatch)
    use_registry(monkeypatch, target, tmp_path / "target-store")
    registry().create_model(model_name="other")
    with pytest.raises(error, match=message):
        import_text("\n".join(corrupt(lines)) + "\n")
    assert [model.model_name for model in registry().search_models().items] == ["other"]
    assert registry().search_runs().items == []
