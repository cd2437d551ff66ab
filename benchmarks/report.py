"""Results as JSON, a markdown table with the ratios the targets speak of, and a PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _find(results: list[dict], backend: str, size: int, system: str, operation_start: str) -> dict | None:
    for item in results:
        if (item["backend"], item["size"], item["system"]) == (backend, size, system) and item["operation"].startswith(
            operation_start
        ):
            return item
    return None


def _ms(value: float) -> str:
    return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"


def markdown(results: list[dict], meta: dict[str, Any]) -> str:
    sizes = sorted({item["size"] for item in results})
    backends = [backend for backend in ("sqlite", "postgresql") if any(item["backend"] == backend for item in results)]
    lines = [
        f"Measured {meta['date']} on {meta['machine']}; Python {meta['python']}, SQLite {meta['sqlite']}, "
        f"PostgreSQL {meta['postgresql']}, MLflow {meta['mlflow']}. Medians in milliseconds (p95 in "
        "parentheses); bulk loads in rows per second.",
        "",
    ]
    for backend in backends:
        lines += [f"### {backend}", "", "| system | operation | " + " | ".join(f"{size:,} runs" for size in sizes) + " |"]
        lines.append("|---|---|" + "---|" * len(sizes))
        seen: list[tuple[str, str]] = []
        for item in results:
            key = (item["system"], item["operation"])
            if item["backend"] == backend and key not in seen:
                seen.append(key)
        for system, operation in seen:
            cells = []
            for size in sizes:
                match = next(
                    (i for i in results if (i["backend"], i["size"], i["system"], i["operation"]) == (backend, size, system, operation)),
                    None,
                )
                if match is None:
                    cells.append("–")
                elif match["rate_per_s"]:
                    cells.append(f"{match['rate_per_s']:,} rows/s")
                elif match["samples"] == 1:
                    cells.append(_ms(match["median_ms"]))
                else:
                    cells.append(f"{_ms(match['median_ms'])} ({_ms(match['p95_ms'])})")
            lines.append(f"| {system} | {operation} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["### Ratios (same run, same database)", "", "| backend | runs | comparison | ratio |", "|---|---|---|---|"]
    for backend in backends:
        for size in sizes:
            pairs = [
                ("create one run vs MLflow create_run + log_batch", ("mlflow", "create_run"), ("gemini", "create one run"), "speedup"),
                ("get_by_id vs MLflow get_run", ("mlflow", "get_run"), ("gemini", "get_by_id"), "speedup"),
                ("search N/20 matches vs MLflow search_runs", ("mlflow", "search_runs, "), ("gemini", "search: containment, "), "speedup_many"),
                ("one-match search vs MLflow search_runs", ("mlflow", "search_runs, one match"), ("gemini", "search: containment, one match"), "speedup"),
                ("create one run vs raw insert + commit", ("raw driver", "insert + commit"), ("gemini", "create one run"), "slowdown"),
                ("get_by_id vs raw primary-key lookup", ("raw driver", "primary-key lookup"), ("gemini", "get_by_id"), "slowdown"),
                ("create_many vs raw executemany (rows/s)", ("raw driver", "executemany"), ("gemini", "create_many"), "rate"),
                ("search N/20 matches vs raw fetch + decode", ("raw driver", "fetch + decode N/20"), ("gemini", "search: containment, "), "slowdown_many"),
                ("range + order_by + limit 100, hot keys (target ≤ 10 ms)", ("gemini", "where range + order_by + limit 100, hot keys"), ("gemini", "where range + order_by + limit 100, hot keys"), "absolute"),
            ]
            for label, (base_system, base_op), (our_system, our_op), kind in pairs:
                if kind == "slowdown_many":
                    base = _find(results, backend, size, base_system, base_op)
                    ours = next((i for i in results if (i["backend"], i["size"], i["system"]) == (backend, size, our_system)
                                 and i["operation"].startswith(our_op) and "one match" not in i["operation"]), None)
                    kind = "slowdown"
                elif kind == "speedup_many":
                    base = next((i for i in results if (i["backend"], i["size"], i["system"]) == (backend, size, base_system)
                                 and i["operation"].startswith("search_runs") and "one match" not in i["operation"]), None)
                    ours = next((i for i in results if (i["backend"], i["size"], i["system"]) == (backend, size, our_system)
                                 and i["operation"].startswith(our_op) and "one match" not in i["operation"]), None)
                else:
                    base = _find(results, backend, size, base_system, base_op)
                    ours = _find(results, backend, size, our_system, our_op)
                if not base or not ours:
                    continue
                if kind == "absolute":
                    ratio = f"{ours['median_ms']:.1f} ms"
                elif kind == "rate":
                    ratio = f"{ours['rate_per_s'] / base['rate_per_s']:.2f}× the raw rate"
                elif kind == "slowdown":
                    ratio = f"{ours['median_ms'] / base['median_ms']:.1f}× the raw time"
                else:
                    ratio = f"{base['median_ms'] / ours['median_ms']:.1f}× faster"
                lines.append(f"| {backend} | {size:,} | {label} | {ratio} |")
    return "\n".join(lines) + "\n"


PLOTTED = [
    ("gemini", "get_by_id"),
    ("gemini", "create one run"),
    ("gemini", "search: containment, one match"),
    ("gemini", "search: where nested equality"),
    ("gemini", "where range + order_by + limit 100, hot keys"),
    ("gemini", "where range + order_by + limit 100, no index"),
    ("gemini", "deep page by cursor"),
    ("raw driver", "primary-key lookup"),
    ("mlflow", "get_run"),
    ("mlflow", "search_runs, one match"),
]


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = [backend for backend in ("sqlite", "postgresql") if any(item["backend"] == backend for item in results)]
    figure, axes = plt.subplots(1, len(backends), figsize=(7 * len(backends), 5), squeeze=False)
    for axis, backend in zip(axes[0], backends):
        for system, operation in PLOTTED:
            points = sorted(
                (item["size"], item["median_ms"])
                for item in results
                if item["backend"] == backend and item["system"] == system and item["operation"].startswith(operation)
            )
            if points:
                axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{system}: {operation}")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("runs in the registry")
        axis.set_ylabel("median latency (ms)")
        axis.set_title(backend)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


# The README's table: (label, system, start of the operation's name).
SUMMARY = [
    ("create one run, durable commit", "gemini", "create one run"),
    ("  raw driver: insert + commit", "raw driver", "insert + commit"),
    ("  MLflow: create_run + log_batch", "mlflow", "create_run"),
    ("read one by id", "gemini", "get_by_id"),
    ("  raw driver: primary-key lookup", "raw driver", "primary-key lookup"),
    ("  MLflow: get_run", "mlflow", "get_run"),
    ("search, one match (no declared index)", "gemini", "search: containment, one match"),
    ("  MLflow: search_runs, one match", "mlflow", "search_runs, one match"),
    ("search, N/20 matches (all returned)", "gemini", "search: containment, "),
    ("  MLflow: search_runs, N/20 matches", "mlflow", "search_runs, "),
    ("  raw driver: fetch + decode N/20 matches", "raw driver", "fetch + decode N/20"),
    ("range + order_by + limit 100, hot keys", "gemini", "where range + order_by + limit 100, hot keys"),
    ("range + order_by + limit 100, no index", "gemini", "where range + order_by + limit 100, no index"),
    ("page at 90% by cursor", "gemini", "deep page by cursor"),
    ("create_many, runs/s", "gemini", "create_many"),
    ("  raw driver: executemany, rows/s", "raw driver", "executemany"),
]


def summary(results: list[dict]) -> str:
    """One table of the main figures, both databases, every size: medians in ms, loads in rows/s."""
    sizes = sorted({item["size"] for item in results})
    backends = [backend for backend in ("sqlite", "postgresql") if any(item["backend"] == backend for item in results)]
    columns = [(backend, size) for backend in backends for size in sizes]
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    lines = [
        "| operation | " + " | ".join(f"{names[backend]} {size:,}" for backend, size in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for label, system, operation in SUMMARY:
        cells = []
        for backend, size in columns:
            found = [
                item for item in results
                if (item["backend"], item["size"], item["system"]) == (backend, size, system)
                and item["operation"].startswith(operation)
                and (operation.endswith("one match") or "one match" not in item["operation"])
            ]
            if not found:
                cells.append("–")
            elif found[0]["rate_per_s"]:
                cells.append(f"{found[0]['rate_per_s']:,.0f}")
            else:
                cells.append(_ms(found[0]["median_ms"]))
        lines.append(f"| {label.strip() if not label.startswith('  ') else '↳ ' + label.strip()} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write(results: list[dict], meta: dict[str, Any], directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    table = markdown(results, meta)
    (directory / "results.md").write_text(table)
    (directory / "summary.md").write_text(summary(results))
    plot(results, directory / "latency.png")
    return table
