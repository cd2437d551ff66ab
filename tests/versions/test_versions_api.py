"""``ModelVersion``, ``ModelRun.register_version`` and ``Model.get_versions`` on SQLite, PostgreSQL and
through a server: numbering, pinned bytes, aliases, ``latest``, refusals (``None``/``False`` plus one log
line, nothing written) and deletions."""

import hashlib
import logging
import uuid

import pytest
import sqlalchemy as sa

from gemini.api.model import Model
from gemini.api.model_run import ModelRun
from gemini.api.model_version import ModelVersion
from gemini.db import engine as db_engine
from gemini.domain.errors import ConflictError, InvalidInputError, NotFoundError
from gemini.registry import registry
from tests.artifacts.conftest import write_file
from tests.versions.conftest import MODEL, WEIGHTS


def _rows(db: str, table: str) -> int:
    with db_engine.get_engine(db).connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- registering and numbering -------------------------------------------------------------------------


def test_a_new_version_pins_the_artifact_and_has_no_alias(run, weights):
    version = run.register_version(WEIGHTS, version_info={"map50": 0.91})
    assert isinstance(version, ModelVersion)
    assert (version.model_name, version.version, version.model_run_id) == (MODEL, 1, run.id)
    assert (version.artifact_name, version.sha256, version.size) == (WEIGHTS, weights[1], 70_000)
    assert version.version_info == {"map50": 0.91}
    assert version.aliases == [] and version.created_by is None
    assert version.model_id == Model.get(MODEL).id
    assert f"model_name='{MODEL}'" in repr(version) and "version=1" in repr(version)


def test_versions_are_numbered_1_2_3_and_listed_ascending(run):
    made = [ModelVersion.create(model_run_id=run.id, artifact_name=WEIGHTS) for _ in range(3)]
    assert [version.version for version in made] == [1, 2, 3]
    assert made[0].version_info == {}
    listed = ModelVersion.get_all(MODEL)
    assert [version.version for version in listed] == [1, 2, 3]
    assert [version.id for version in listed] == [version.id for version in made]
    assert [version.id for version in Model.get(MODEL).get_versions()] == [version.id for version in made]


def test_numbers_are_per_model(run, weights):
    other = ModelRun.create({"n": 2}, model_name="plant_detector")
    other.log_artifact(weights[0], name="best.pt")
    assert run.register_version(WEIGHTS).version == 1
    assert other.register_version("best.pt").version == 1
    assert run.register_version(WEIGHTS).version == 2


def test_a_deleted_versions_number_is_not_given_again(run):
    run.register_version(WEIGHTS)
    assert run.register_version(WEIGHTS).delete() is True  # the highest
    assert run.register_version(WEIGHTS).version == 3
    assert [version.version for version in ModelVersion.get_all(MODEL)] == [1, 3]


def test_a_model_without_versions_lists_none_and_has_no_latest(db, caplog):
    Model.create(MODEL)
    assert ModelVersion.get_all(MODEL) == []
    assert Model.get(MODEL).get_versions() == []
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelVersion.get(MODEL, alias="latest") is None
        assert ModelVersion.get(f"{MODEL}@latest") is None
    assert [record.getMessage() for record in caplog.records] == [
        f"ModelVersion.get failed: model {MODEL!r} has no versions"
    ] * 2


# -- finding -------------------------------------------------------------------------------------------


def test_a_version_is_found_by_number_alias_reference_latest_and_id(run):
    one, two, three = (run.register_version(WEIGHTS) for _ in range(3))
    assert two.set_alias("production") is True
    assert ModelVersion.get(MODEL, version=1).id == one.id
    assert ModelVersion.get(MODEL, alias="production").id == two.id
    assert ModelVersion.get(f"{MODEL}@production").id == two.id
    assert ModelVersion.get(f"{MODEL}@3").id == three.id
    assert ModelVersion.get(f"{MODEL}@latest").id == three.id
    assert ModelVersion.get(MODEL, alias="latest").id == three.id
    found = ModelVersion.get_by_id(two.id)
    assert found.aliases == ["production"] and found == ModelVersion.get_by_id(str(two.id))


@pytest.mark.parametrize(
    "arguments",
    [
        ("nope@1",),
        (f"{MODEL}@9",),
        (f"{MODEL}@candidate",),
        (MODEL,),  # a name without @ is no reference
        (f"{MODEL}@",),
        (f"{MODEL}@0",),
        (f"{MODEL}@bad alias",),
        (MODEL, 1, "production"),
    ],
)
def test_what_names_no_version_gives_none_and_one_line(run, caplog, arguments):
    run.register_version(WEIGHTS)
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelVersion.get(*arguments) is None
    assert len(caplog.records) == 1 and caplog.records[0].getMessage().startswith("ModelVersion.get failed: ")


def test_unknown_ids_and_models_give_none(db):
    assert ModelVersion.get_by_id(uuid.uuid4()) is None
    assert ModelVersion.get_by_id("not-an-id") is None
    assert ModelVersion.get_all("no-such-model") is None


# -- aliases -------------------------------------------------------------------------------------------


def test_moving_an_alias_takes_it_from_the_version_that_held_it(run, db):
    one, two = run.register_version(WEIGHTS), run.register_version(WEIGHTS)
    assert one.set_alias("production") and one.aliases == ["production"]
    assert two.set_alias("production") and two.aliases == ["production"]
    assert ModelVersion.get_by_id(one.id).aliases == []
    assert ModelVersion.get(f"{MODEL}@production").id == two.id
    assert _rows(db, "model_version_aliases") == 1
    assert one.set_alias("candidate") and two.set_alias("candidate")
    assert [version.aliases for version in ModelVersion.get_all(MODEL)] == [[], ["candidate", "production"]]


def test_setting_an_alias_a_version_holds_changes_nothing(run):
    version = run.register_version(WEIGHTS)
    assert version.set_alias("production") and version.set_alias("production")
    assert ModelVersion.get_by_id(version.id).aliases == ["production"]


def test_the_same_alias_names_a_version_of_each_model(run, weights):
    other = ModelRun.create({"n": 2}, model_name="plant_detector")
    other.log_artifact(weights[0], name="best.pt")
    mine, theirs = run.register_version(WEIGHTS), other.register_version("best.pt")
    assert mine.set_alias("production") and theirs.set_alias("production")
    assert ModelVersion.get(f"{MODEL}@production").id == mine.id
    assert ModelVersion.get("plant_detector@production").id == theirs.id


def test_removing_an_alias(run, caplog):
    version = run.register_version(WEIGHTS)
    version.set_alias("production")
    assert version.remove_alias("production") is True and version.aliases == []
    assert ModelVersion.get(f"{MODEL}@production") is None
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert version.remove_alias("production") is False
    assert caplog.records[-1].getMessage() == (
        f"ModelVersion.remove_alias failed: {MODEL}@1 has no alias 'production'"
    )


@pytest.mark.parametrize(
    "alias",
    ["latest", "3", "007", "", "1abc", "-prod", "_prod", "prod uction", "prod/uction", "prod@x", "prodé", "a" * 65, None, 3],
)
def test_names_that_are_no_alias_are_refused_and_nothing_is_written(run, db, caplog, alias):
    version = run.register_version(WEIGHTS)
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert version.set_alias(alias) is False
    assert len(caplog.records) == 1 and caplog.records[0].getMessage().startswith("ModelVersion.set_alias failed: ")
    assert _rows(db, "model_version_aliases") == 0


@pytest.mark.parametrize("alias", ["a", "Production", "prod-2024_v1", "A" * 64])
def test_names_that_are_aliases_are_taken(run, alias):
    version = run.register_version(WEIGHTS)
    assert version.set_alias(alias) is True
    assert ModelVersion.get(MODEL, alias=alias).id == version.id


def test_the_front_refuses_bad_aliases_with_the_same_words_in_every_mode(run):
    version = run.register_version(WEIGHTS)
    with pytest.raises(InvalidInputError, match="'latest' is reserved"):
        registry().set_model_version_alias(version_id=version.id, alias="latest")
    with pytest.raises(InvalidInputError, match="is a number"):
        registry().set_model_version_alias(version_id=version.id, alias="3")


# -- info ------------------------------------------------------------------------------------------------


def test_set_info_replaces_it_and_returns_the_version(run):
    version = run.register_version(WEIGHTS, version_info={"map50": 0.91})
    updated = version.set_info({"map50": 0.92})
    assert updated is version and version.version_info == {"map50": 0.92}
    assert ModelVersion.get_by_id(version.id).version_info == {"map50": 0.92}
    assert version.set_info({"bad": float("nan")}) is None
    assert version.set_info(None) is None
    assert ModelVersion.get_by_id(version.id).version_info == {"map50": 0.92}


# -- refusals at registration --------------------------------------------------------------------------


def test_registering_what_does_not_exist_gives_none_and_writes_nothing(run, db, caplog):
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert run.register_version("weights/last.pt") is None
        assert ModelVersion.create(model_run_id=uuid.uuid4(), artifact_name=WEIGHTS) is None
        assert ModelVersion.create(model_run_id=run.id, artifact_name="../evil") is None
        assert run.register_version(WEIGHTS, version_info={"x": float("inf")}) is None
        assert ModelVersion.create(model_run_id="nope", artifact_name=WEIGHTS) is None
    assert len(caplog.records) == 5
    assert caplog.records[0].getMessage() == (
        f"ModelRun.register_version failed: model run {run.id} has no artifact named 'weights/last.pt'"
    )
    assert _rows(db, "model_versions") == 0
    assert run.register_version(WEIGHTS).version == 1  # nothing was used up


def test_a_run_of_no_model_has_no_versions(db, weights):
    loose = ModelRun.create({"loose": True})
    loose.log_artifact(weights[0], name=WEIGHTS)
    assert loose.register_version(WEIGHTS) is None
    with pytest.raises(InvalidInputError, match="belongs to no model"):
        registry().register_model_version(run_id=loose.id, artifact_name=WEIGHTS)
    assert _rows(db, "model_versions") == 0


def test_the_contract_raises_not_found_for_a_missing_run_or_artifact(run):
    with pytest.raises(NotFoundError, match="no model run with id"):
        registry().register_model_version(run_id=uuid.uuid4(), artifact_name=WEIGHTS)
    with pytest.raises(NotFoundError, match="has no artifact named"):
        registry().register_model_version(run_id=run.id, artifact_name="nope.pt")


# -- pinned bytes ----------------------------------------------------------------------------------------


def test_a_version_downloads_its_own_bytes_after_the_run_logs_new_ones(run, weights, tmp_path):
    version = run.register_version(WEIGHTS)
    newer = tmp_path / "retrained.pt"
    newer_digest = write_file(newer, 50_000, seed=b"second")
    assert run.log_artifact(newer, name=WEIGHTS)["sha256"] == newer_digest
    second = run.register_version(WEIGHTS)
    assert second.sha256 == newer_digest and second.size == 50_000

    written = version.download(tmp_path / "out" / "v1.pt")
    assert written == tmp_path / "out" / "v1.pt" and _sha256(written) == weights[1] == version.sha256
    assert _sha256(second.download(tmp_path / "out" / "v2.pt")) == newer_digest
    assert ModelVersion.get(f"{MODEL}@1").download(tmp_path / "again.pt").read_bytes() == weights[0].read_bytes()


def test_a_directory_gets_the_artifacts_base_name(run, weights, tmp_path):
    target = tmp_path / "serving"
    target.mkdir()
    written = run.register_version(WEIGHTS).download(target)
    assert written == target / "best.pt" and _sha256(written) == weights[1]


def test_corrupted_bytes_are_not_written(run, tmp_path, caplog):
    from gemini.config import get_settings

    version = run.register_version(WEIGHTS)
    blob = get_settings().resolved_artifact_root / "blobs" / version.sha256[:2] / version.sha256
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    target = tmp_path / "bad.pt"
    with caplog.at_level(logging.ERROR, logger="gemini.api"):
        assert version.download(target) is None
    assert not target.exists()
    # Locally the store's check names the digest; a server cuts the connection short before the end.
    assert len(caplog.records) == 1 and caplog.records[0].getMessage().startswith("ModelVersion.download failed: ")


# -- deleting --------------------------------------------------------------------------------------------


def test_a_version_that_holds_an_alias_is_not_deleted(run, caplog):
    version = run.register_version(WEIGHTS)
    version.set_alias("production")
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert version.delete() is False
    assert caplog.records[-1].getMessage() == (
        f"ModelVersion.delete failed: {MODEL}@1 holds the aliases production: remove them or move them to "
        "another version before deleting it"
    )
    with pytest.raises(ConflictError):
        registry().delete_model_version(version_id=version.id)
    version.remove_alias("production")
    assert version.delete() is True
    assert ModelVersion.get_by_id(version.id) is None
    assert version.delete() is False


def test_a_run_with_versions_is_not_deleted_and_keeps_its_artifacts(run, caplog):
    run.register_version(WEIGHTS)
    run.register_version(WEIGHTS)
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert run.delete() is False
    assert caplog.records[-1].getMessage() == (
        f"ModelRun.delete failed: model run {run.id} has registered versions ({MODEL}@1, {MODEL}@2): "
        "delete those versions before the run"
    )
    with pytest.raises(ConflictError, match=f"{MODEL}@1, {MODEL}@2"):
        registry().delete_run(run_id=run.id)
    assert ModelRun.get_by_id(run.id) is not None
    assert [item["name"] for item in run.list_artifacts()] == [WEIGHTS]
    for version in ModelVersion.get_all(MODEL):
        assert version.delete()
    assert run.delete() is True


def test_deleting_a_model_deletes_its_versions_and_aliases(run, db):
    run.register_version(WEIGHTS).set_alias("production")
    assert Model.get(MODEL).delete() is True
    assert _rows(db, "model_versions") == 0 and _rows(db, "model_version_aliases") == 0
