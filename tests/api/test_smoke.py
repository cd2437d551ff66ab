from gemini.api.model import Model
from gemini.api.model_run import ModelRun


def test_created_run_belongs_to_the_named_model(db):
    model = Model.create(model_name="detector")
    run = ModelRun.create(model_run_info={"run_id": "12345"}, model_name="detector")
    assert run.model_id == model.id
    assert ModelRun.get_by_id(run.id) == run
