"""The seed's Model API and the experiments it links to, on SQLite and PostgreSQL."""

import logging
import uuid

import pytest

from gemini.registry import registry
from gemini.api.experiment import Experiment
from gemini.api.model import Model
from gemini.api.model_run import ModelRun


def test_create_and_print(db):
    model = Model.create(model_name="example_model", model_url="https://example.org/m", model_info={"arch": "yolo"})
    assert repr(model) == (
        f"Model(id={model.id!r}, model_name='example_model', model_url='https://example.org/m', "
        "model_info={'arch': 'yolo'})"
    )
    assert str(model) == repr(model)


def test_create_with_an_existing_name_returns_the_existing_model_unchanged(db):
    first = Model.create(model_name="detector", model_info={"v": 1})
    again = Model.create(model_name="detector", model_info={"v": 2})
    assert again == first
    assert Model.get("detector").model_info == {"v": 1}


@pytest.mark.parametrize("bad_name", ["", "   ", None, 42, "x" * 256])
def test_create_with_a_bad_name_returns_none_and_writes_nothing(db, bad_name, caplog):
    assert Model.create(model_name=bad_name) is None
    assert "model_name" in caplog.text
    assert registry().search_models().items == []


def test_create_in_a_new_experiment_creates_the_experiment_and_associates_the_model(db):
    model = Model.create(model_name="detector", experiment_name="new_experiment")
    assert model.belongs_to_experiment("new_experiment") is True
    assert [e.experiment_name for e in model.get_associated_experiments()] == ["new_experiment"]


def test_creating_an_experiment_by_name_logs_one_info_line_naming_it(db, caplog):
    with caplog.at_level(logging.INFO):
        Model.create(model_name="detector", experiment_name="new_experiment")
        Model.create(model_name="counter", experiment_name="new_experiment")
    created = [r for r in caplog.records if r.levelno == logging.INFO and r.name == "gemini.core"]
    assert len(created) == 1
    assert created[0].getMessage().startswith("created experiment 'new_experiment' (id ")


@pytest.mark.parametrize("bad_name", ["", "x" * 256, "a\x00b"])
def test_create_with_an_invalid_experiment_name_writes_nothing(db, bad_name, caplog):
    assert Model.create(model_name="detector", experiment_name=bad_name) is None
    assert "experiment_name" in caplog.text
    assert Model.exists("detector") is False
    assert Experiment.get_all() is None


def test_exists_get_and_get_by_id(db):
    model = Model.create(model_name="detector")
    assert Model.exists("detector") is True
    assert Model.exists("counter") is False
    assert Model.get("detector") == model
    assert Model.get("counter") is None
    assert Model.get_by_id(model.id) == model
    assert Model.get_by_id(str(model.id)) == model
    assert Model.get_by_id("nonsense") is None
    assert Model.get_by_id(uuid.uuid4()) is None


def test_get_all_in_creation_order(db):
    assert Model.get_all() is None
    names = [f"m{i}" for i in range(4)]
    for name in names:
        Model.create(model_name=name)
    assert [m.model_name for m in Model.get_all()] == names
    assert [m.model_name for m in Model.get_all(limit=2, offset=1)] == names[1:3]


def test_search(db):
    Experiment.create(experiment_name="davis-2024")
    Model.create(model_name="a", model_url="u1", model_info={"arch": "yolo", "size": "s"}, experiment_name="davis-2024")
    Model.create(model_name="b", model_url="u2", model_info={"arch": "yolo", "size": "m"})
    Model.create(model_name="c", model_url="u1", model_info={"arch": "rcnn"})
    names = lambda models: sorted(m.model_name for m in models or [])  # noqa: E731
    assert names(Model.search(model_info={"arch": "yolo"})) == ["a", "b"]
    assert names(Model.search(model_url="u1")) == ["a", "c"]
    assert names(Model.search(model_name="b")) == ["b"]
    assert names(Model.search(model_url="u1", model_info={"arch": "yolo"})) == ["a"]
    assert names(Model.search(experiment_name="davis-2024")) == ["a"]
    assert Model.search() is None
    assert Model.search(model_name="z") is None
    assert Model.search(experiment_name="missing") is None


def test_update_changes_the_given_fields_only(db):
    model = Model.create(model_name="detector", model_url="u", model_info={"v": 1})
    assert model.update(model_info={"v": 2}) is model
    stored = Model.get_by_id(model.id)
    assert (stored.model_name, stored.model_url, stored.model_info) == ("detector", "u", {"v": 2})
    assert model.update(model_name="detector-2").model_name == "detector-2"
    assert Model.get("detector") is None


def test_update_with_nothing_or_a_taken_name_is_refused(db, caplog):
    Model.create(model_name="taken")
    model = Model.create(model_name="detector")
    assert model.update() is None
    assert model.update(model_name="taken") is None
    assert "already named 'taken'" in caplog.text
    assert Model.get_by_id(model.id).model_name == "detector"


def test_info_methods_and_refresh(db):
    model = Model.create(model_name="detector", model_info={"v": 1})
    assert model.get_info() == {"v": 1}
    assert model.set_info({"v": 2}).model_info == {"v": 2}
    Model.get_by_id(model.id).update(model_url="elsewhere")
    assert model.refresh().model_url == "elsewhere"
    assert model.set_info(None) is None


def test_runs_of_a_model(db):
    model = Model.create(model_name="detector")
    assert model.get_associated_runs() is None
    run = model.create_new_run({"epoch": 1})
    assert run.model_id == model.id
    assert model.create_new_run({"epoch": 1}).id == run.id
    assert model.create_new_run({"epoch": float("nan")}) is None
    assert [r.id for r in model.get_associated_runs()] == [run.id]
    assert ModelRun.get_by_id(run.id).belongs_to_model("detector")


def test_delete_model_deletes_its_runs_only(db):
    keep = Model.create(model_name="keep")
    kept_run = keep.create_new_run({"a": 1})
    model = Model.create(model_name="detector")
    model.create_new_run({"a": 1})
    assert model.delete() is True
    assert Model.get("detector") is None
    assert [r.id for r in ModelRun.get_all()] == [kept_run.id]
    assert model.delete() is False


def test_experiment_association(db):
    Experiment.create(experiment_name="davis-2024")
    Experiment.create(experiment_name="kearney-2025")
    model = Model.create(model_name="detector", experiment_name="davis-2024")
    assert [e.experiment_name for e in model.get_associated_experiments()] == ["davis-2024"]
    assert model.belongs_to_experiment("davis-2024") is True
    assert model.belongs_to_experiment("kearney-2025") is False
    assert model.belongs_to_experiment("missing") is False
    assert model.associate_experiment("kearney-2025").experiment_name == "kearney-2025"
    assert Model.get("detector", experiment_name="kearney-2025") == model
    assert model.unassociate_experiment("davis-2024").experiment_name == "davis-2024"
    assert model.unassociate_experiment("davis-2024") is None
    assert Model.get("detector", experiment_name="davis-2024") is None
    assert model.associate_experiment("missing") is None
    assert [e.experiment_name for e in model.get_associated_experiments()] == ["kearney-2025"]


def test_experiments(db):
    assert Experiment.get_all() is None
    experiment = Experiment.create(experiment_name="davis-2024", experiment_info={"site": "Davis"})
    assert Experiment.create(experiment_name="davis-2024") == experiment
    assert Experiment.get("davis-2024") == experiment
    assert Experiment.get("missing") is None
    assert Experiment.get_by_id(experiment.id) == experiment
    assert Experiment.get_by_id("bad") is None
    assert [e.experiment_name for e in Experiment.get_all()] == ["davis-2024"]
    model = Model.create(model_name="detector", experiment_name="davis-2024")
    assert experiment.delete() is True
    assert experiment.delete() is False
    assert Model.get_by_id(model.id) == model
    assert model.get_associated_experiments() is None
