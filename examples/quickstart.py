"""A walk through every method of the seed API on the configured database (by default the embedded
SQLite file in your data directory). Safe to run again: it removes what it created at the end.

    python examples/quickstart.py
"""

import logging
import sys

from gemini.api.experiment import Experiment
from gemini.api.model import Model
from gemini.api.model_run import ModelRun
from gemini.config import get_settings

logging.basicConfig(level=logging.WARNING, format="  log: %(message)s", stream=sys.stdout)


def show(label: str, value: object) -> None:
    print(f"{label:<42} {value}")


def main() -> None:
    print(f"database: {get_settings().resolved_database_url}\n")

    experiment = Experiment.create(experiment_name="quickstart-davis-2024", experiment_info={"site": "Davis"})
    model = Model.create(
        model_name="quickstart_detector",
        model_url="https://example.org/models/detector",
        model_info={"architecture": "yolo", "classes": ["plant"]},
        experiment_name="quickstart-davis-2024",
    )
    show("Model.create", model)
    Model.create(model_name="quickstart_counter")

    run = ModelRun.create(model_run_info={"run_id": "12345", "params": {"lr": 0.01}}, model_name="quickstart_detector")
    show("ModelRun.create", run)
    show("ModelRun.create (same info again)", ModelRun.create({"params": {"lr": 0.01}, "run_id": "12345"}, "quickstart_detector").id == run.id)
    new_model_run = ModelRun.create({"run_id": "1"}, model_name="quickstart_new_model")
    show("ModelRun.create (new model name)", new_model_run)
    show("  ... created that model", Model.get("quickstart_new_model"))
    other = model.create_new_run({"run_id": "67890", "params": {"lr": 0.1}, "metrics": {"map50": 0.84}})
    show("Model.create_new_run", other)

    show("ModelRun.exists", ModelRun.exists(model_run_info={"run_id": "12345", "params": {"lr": 0.01}}, model_name="quickstart_detector"))
    show("ModelRun.get", ModelRun.get(model_run_info={"run_id": "12345", "params": {"lr": 0.01}}, model_name="quickstart_detector"))
    show("ModelRun.get_by_id", ModelRun.get_by_id(str(run.id)))
    show("ModelRun.get(run.id)", ModelRun.get(run.id))
    show("Model.get(model.id)", Model.get(model.id))
    show("ModelRun.get (unknown model: creates nothing)", ModelRun.get({"run_id": "1"}, model_name="no_such_model"))
    show("ModelRun.get_all(limit=2)", ModelRun.get_all(limit=2))
    show("ModelRun.search(params.lr = 0.1)", ModelRun.search(model_run_info={"params": {"lr": 0.1}}, model_name="quickstart_detector"))

    show("ModelRun.update", run.update(model_run_info={"run_id": "12345", "params": {"lr": 0.02}}))
    show("ModelRun.set_info", run.set_info(model_run_info={"run_id": "12345", "params": {"lr": 0.03}, "start_time": "2024-06-01T12:00:00Z"}))
    show("ModelRun.get_info", run.get_info())
    show("ModelRun.refresh", run.refresh())

    show("ModelRun.get_associated_model", run.get_associated_model())
    show("ModelRun.belongs_to_model", run.belongs_to_model("quickstart_detector"))
    show("ModelRun.associate_model", run.associate_model(model_name="quickstart_counter"))
    show("ModelRun.unassociate_model", run.unassociate_model())
    show("ModelRun.belongs_to_model (after)", run.belongs_to_model("quickstart_counter"))

    show("Model.get_associated_runs", model.get_associated_runs())
    show("Model.get_associated_experiments", model.get_associated_experiments())
    show("Model.search(model_info=...)", Model.search(model_info={"architecture": "yolo"}))

    show("ModelRun.delete", run.delete())
    show("ModelRun.get_by_id (deleted)", ModelRun.get_by_id(run.id))
    show("Model.delete (and its runs)", model.delete())
    show("ModelRun.get_by_id (run of deleted model)", ModelRun.get_by_id(other.id))
    Model.get("quickstart_counter").delete()
    Model.get("quickstart_new_model").delete()
    experiment.delete()


if __name__ == "__main__":
    main()
