"""The complete example of docs/records.md, with a stand-in for the detector: a tracked training, its
registered version, a season's records inserted with ``model_version``, the breeder's query and the two
lineage questions, locally on both databases and through a server."""

import datetime as dt

from gemini.api.model import Model
from gemini.api.model_record import ModelRecord
from gemini.api.model_run import ModelRun
from gemini.api.model_version import ModelVersion


def test_the_documented_season_runs_end_to_end(registry_url, tmp_path):
    weights_file = tmp_path / "runs" / "train" / "weights" / "best.pt"
    weights_file.parent.mkdir(parents=True)
    weights_file.write_bytes(b"trained weights")
    with ModelRun.track(model_run_info={"params": {"lr": 0.01}}, model_name="stand_counter") as run:
        for epoch in range(3):
            run.log_metrics({"map50": 0.5 + epoch / 10}, step=epoch)
        run.log_artifact(weights_file, name="weights/best.pt")
    version = run.register_version("weights/best.pt")
    assert version.version == 1 and version.set_alias("production")

    weights = ModelVersion.get("stand_counter@production")
    downloaded = weights.download(tmp_path / "srv")
    assert downloaded.read_bytes() == b"trained weights"
    counter = Model.get("stand_counter")
    flights = [(f"flight-06{day:02d}", dt.datetime(2026, 6, day, 9, 0)) for day in (1, 2)]
    for flight_name, started_at in flights:
        plots = [f"P-{plot:04d}" for plot in range(5)]
        success, ids = counter.insert_records(
            timestamps=[started_at] * len(plots),
            collection_date=started_at.date(),
            model_data=[{"plot": plot, "count": 30 + index} for index, plot in enumerate(plots)],
            dataset_name=flight_name,
            experiment_name="GEMINI-2026",
            season_name="Summer",
            site_name="Davis",
            record_info=[{"plot": plot} for plot in plots],
            model_version=f"stand_counter@{weights.version}",
        )
        assert success and len(ids) == len(plots)

    june_first = list(
        Model.get("stand_counter").filter_records(
            start_timestamp=dt.datetime(2026, 6, 1), end_timestamp=dt.datetime(2026, 6, 1, 23, 59, 59),
            experiment_names=["GEMINI-2026"], season_names=["Summer"], site_names=["Davis"],
        )
    )
    assert [(record.model_data["plot"], record.model_data["count"]) for record in june_first] == [
        (f"P-{plot:04d}", 30 + plot) for plot in range(5)
    ]
    assert {record.model_version for record in june_first} == {"stand_counter@1"}
    assert {record.dataset_name for record in june_first} == {"flight-0601"}

    assert len(list(ModelRecord.search(model_version="stand_counter@1"))) == 10
    assert ModelRecord.get_by_id(june_first[0].id).model_version == "stand_counter@1"
    assert list(ModelRecord.search(model_run_id=run.id)) == []  # the weights' run trained; it counted nothing
