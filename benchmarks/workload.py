"""A realistic registry: run infos of about 1.5 KB (params, metrics, data, tags, environment) spread over
a few hundred models, generated deterministically from a seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

SITES = [
    "Davis", "Kearney", "Ames", "Urbana", "Lincoln", "Fargo", "Ithaca", "Pullman", "Tifton", "Stoneville",
    "Manhattan", "Columbia", "Raleigh", "Gainesville", "Lubbock", "Mead", "Aberdeen", "Prosser", "Parlier", "Maricopa",
]
CROPS = ["cowpea", "sorghum", "maize", "wheat", "soybean", "rice"]
USERS = [f"user{index:02d}" for index in range(40)]
WORDS = (
    "canopy cover estimated from drone imagery across replicated plots with stratified sampling of growth "
    "stages and manual annotation of panicles under variable illumination and wind conditions"
).split()

MODEL_COUNT = 300
RARE_BAD_FRACTION = 0.05


def model_name(index: int) -> str:
    return f"detector-{index:03d}"


def make_info(index: int, rng: random.Random) -> dict[str, Any]:
    site = SITES[index % len(SITES)]  # each site holds 1/20 of the runs: 500 at 10k
    year = 2019 + rng.randrange(7)
    info: dict[str, Any] = {
        "run_key": f"run-{index:09d}",
        "params": {
            "lr": round(10 ** rng.uniform(-5, -1), 7),
            "epochs": rng.choice([10, 20, 50, 100, 200, 300]),
            "batch_size": rng.choice([8, 16, 32, 64]),
            "optimizer": rng.choice(["sgd", "adam", "adamw"]),
            "momentum": 0.937,
            "weight_decay": 0.0005,
            "img_size": rng.choice([512, 640, 1024]),
            "seed": rng.randrange(10_000),
            "augment": {"mosaic": rng.random() < 0.5, "mixup": round(rng.random(), 3), "hsv_h": 0.015, "fliplr": 0.5},
        },
        "metrics": {
            "map50": round(rng.random(), 5),
            "map50_95": round(rng.random() * 0.7, 5),
            "precision": round(rng.random(), 5),
            "recall": round(rng.random(), 5),
            "box_loss": round(rng.random() * 2, 5),
            "cls_loss": round(rng.random() * 2, 5),
            "dfl_loss": round(rng.random() * 2, 5),
            "fitness": round(rng.random(), 5),
        },
        "data": {
            "site": site,
            "year": year,
            "sample_id": f"S{index:09d}",
            "crop": rng.choice(CROPS),
            "dataset": f"{site.lower()}-{year}-v{rng.randrange(1, 6)}",
            "plots": [f"P{rng.randrange(100_000):05d}" for _ in range(6)],
            "n_images": rng.randrange(200, 20_000),
            "split": {"train": 0.7, "val": 0.2, "test": 0.1},
        },
        "tags": {
            "user": rng.choice(USERS),
            "git_sha": "%040x" % rng.getrandbits(160),
            "notes": " ".join(rng.choice(WORDS) for _ in range(rng.randrange(60, 110))),
        },
        "env": {
            "python": "3.11.9",
            "torch": rng.choice(["2.3.1", "2.4.1", "2.5.0"]),
            "cuda": "12.1",
            "gpu": rng.choice(["A100-80GB", "H100", "L40S", "RTX-4090"]),
            "host": f"node{rng.randrange(64):02d}",
        },
    }
    if rng.random() < RARE_BAD_FRACTION:
        info["tags"]["bad"] = True
    return info


def runs(count: int, *, seed: int = 7, start: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
    """(model name, info) for runs ``start`` .. ``start + count - 1``."""
    for index in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + index)
        yield model_name(index % MODEL_COUNT), make_info(index, rng)
