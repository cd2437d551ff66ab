"""A small registry every language test searches: runs labelled ``r0``..., over two models."""

import pytest

from gemini.registry import registry

RUNS = [
    ("r0", "yolo", {"params": {"lr": 0.001, "epochs": 10}, "metrics": {"map50": 0.91}, "data": {"site": "Davis"}}),
    ("r1", "yolo", {"params": {"lr": 0.01, "epochs": 20}, "metrics": {"map50": 0.85}, "data": {"site": "Kearney"}}),
    ("r2", "yolo", {"params": {"lr": 0.1, "epochs": 20}, "metrics": {"map50": 0.5}, "data": {"site": "Davis"},
                    "tags": {"bad": True}}),
    ("r3", "detr", {"params": {"lr": "auto"}, "metrics": {"map50": 0.8}, "data": {"site": "davis"}}),
    ("r4", "detr", {"params": {"lr": None}, "metrics": {"map50": 0.95}, "data": {"site": "Davis*[x]"}}),
    ("r5", None, {"params": {"lr": 1, "epochs": 5}, "data": {"site": "Ames", "year": 2024}, "tags": {"bad": False}}),
    ("r6", None, {"params": [1, 2], "metrics": {"map50": "n/a"}, "data": {"site": 7}}),
    ("r7", "yolo", {"a b": {"c.d": 1}, "created_at": "x", "data": {"site": "Davis", "year": 2023}, "note": "it's"}),
]


@pytest.fixture
def sample_runs(db):
    for name in ("yolo", "detr"):
        registry().create_model(model_name=name)
    for label, model_name, info in RUNS:
        registry().create_run(model_run_info={"label": label, **info}, model_name=model_name)
    return {label: (model_name, info) for label, model_name, info in RUNS}


def labels(runs) -> list[str]:
    return [run.model_run_info["label"] for run in runs]
