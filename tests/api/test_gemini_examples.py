"""GEMINI's documented example sequences (Model API, Model Run API, Model -> Model Run, Model Run ->
Model), replayed as written on an empty registry: each step answers what GEMINI's documentation prints,
with ``model_id`` set where the run has a model."""

from gemini.api.experiment import Experiment
from gemini.api.model import Model
from gemini.api.model_run import ModelRun


def test_model_api_example_starts_with_a_new_experiment_name(db):
    new_model = Model.create(
        model_name="Model A", model_url="https://example.com/model_a", model_info={"test": "test"},
        experiment_name="Experiment A",
    )
    assert repr(new_model) == (
        f"Model(id={new_model.id!r}, model_name='Model A', model_url='https://example.com/model_a', "
        "model_info={'test': 'test'})"
    )
    assert Model.get("Model A", "Experiment A") == new_model
    assert Model.get(new_model.id) == new_model
    assert Model.get_by_id(new_model.id) == new_model
    assert Model.search(experiment_name="Experiment A") == [new_model]
    assert Experiment.get("Experiment A").experiment_name == "Experiment A"
    assert [e.experiment_name for e in new_model.get_associated_experiments()] == ["Experiment A"]

    updated = new_model.update(model_url="https://example.com/model_a_updated")
    assert updated.model_url == "https://example.com/model_a_updated"
    assert new_model.set_info({"test": "test_updated"}).model_info == {"test": "test_updated"}
    assert new_model.get_info() == {"test": "test_updated"}
    assert new_model.refresh().model_info == {"test": "test_updated"}
    assert Model.exists(model_name="Model A") is True
    assert new_model.delete() is True
    assert Model.exists(model_name="Model A") is False


def test_model_run_api_example_starts_with_a_new_model_name(db):
    new_run = ModelRun.create(model_run_info={"test": "test"}, model_name="Model A")
    model = Model.get("Model A")
    assert repr(new_run) == f"ModelRun(id={new_run.id!r}, model_id={model.id!r}, model_run_info={{'test': 'test'}})"
    assert ModelRun.get(new_run.id) == new_run
    assert ModelRun.get_by_id(new_run.id) == new_run
    assert ModelRun.get(model_run_info={"test": "test"}, model_name="Model A") == new_run

    updated = new_run.update(model_run_info={"test": "test_updated"})
    assert repr(updated) == (
        f"ModelRun(id={new_run.id!r}, model_id={model.id!r}, model_run_info={{'test': 'test_updated'}})"
    )
    assert new_run.set_info(model_run_info={"test": "test_set"}).model_run_info == {"test": "test_set"}
    assert new_run.get_info() == {"test": "test_set"}
    assert new_run.refresh() == ModelRun.get_by_id(new_run.id)
    assert ModelRun.exists(model_run_info={"test": "test_set"}, model_name="Model A") is True
    assert new_run.delete() is True
    assert ModelRun.exists(model_run_info={"test": "test_set"}, model_name="Model A") is False
    assert ModelRun.get(new_run.id) is None


def test_model_to_model_run_example(db):
    model = Model.create(model_name="Model A", experiment_name="Experiment A")
    run = model.create_new_run(model_run_info={"test": "test"})
    assert run.model_id == model.id
    assert model.get_associated_runs() == [run]


def test_model_run_to_model_example_associates_and_unassociates(db):
    model = Model.create(model_name="Model A", experiment_name="Experiment A")
    run = ModelRun.create(model_run_info={"test": "test"}, model_name="Model B")
    model_b = Model.get("Model B")
    assert run.model_id == model_b.id
    assert run.belongs_to_model("Model B") is True
    assert run.belongs_to_model("Model A") is False

    assert run.associate_model(model_name="Model A") == model
    assert run.model_id == model.id
    assert run.get_associated_model() == model
    assert run.belongs_to_model("Model A") is True
    assert run.belongs_to_model("Model B") is False

    assert run.unassociate_model() == model
    assert run.model_id is None
    assert run.belongs_to_model("Model A") is False
    assert run.get_associated_model() is None


def test_finding_by_an_unknown_name_creates_nothing(db):
    assert ModelRun.get(model_run_info={"test": "test"}, model_name="Model A") is None
    assert ModelRun.exists(model_run_info={"test": "test"}, model_name="Model A") is False
    assert ModelRun.search(model_name="Model A") is None
    assert ModelRun.count(model_name="Model A") is None
    assert Model.get("Model A", "Experiment A") is None
    assert Model.search(experiment_name="Experiment A") is None
    assert Model.exists("Model A") is False
    assert Model.get_all() is None and Experiment.get_all() is None and ModelRun.get_all() is None


def test_associating_with_a_missing_model_or_experiment_stays_an_error(db):
    run = ModelRun.create(model_run_info={"test": "test"})
    model = Model.create(model_name="Model A")
    assert run.associate_model(model_name="Model B") is None
    assert model.associate_experiment("Experiment A") is None
    assert Model.exists("Model B") is False
    assert Experiment.get_all() is None


def test_get_by_a_uuid_with_a_name_too_is_refused(db):
    run = ModelRun.create(model_run_info={"test": "test"}, model_name="Model A")
    assert ModelRun.get(run.id, model_name="Model A") is None
    assert Model.get(run.model_id, experiment_name="Experiment A") is None


def test_the_readmes_search_and_bulk_example_runs_on_a_fresh_registry(db):
    assert ModelRun.search(model_name="detector", where='params.lr < 0.01 and data.site = "Davis"',
                           order_by="-metrics.map50", limit=10) is None
    assert ModelRun.count(where="metrics.map50 >= 0.8") == 0
    runs = ModelRun.create_many([{"epoch": 1}, {"epoch": 2}], model_name="detector")
    assert [run.model_run_info for run in runs] == [{"epoch": 1}, {"epoch": 2}]
    assert {run.model_id for run in runs} == {Model.get("detector").id}
