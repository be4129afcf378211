"""The result tables: every run's metrics collected into summary, per-run and per-class tables."""

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from visionrepro.metrics import summarise

METRICS = {
    "classification": ("val_accuracy",),
    "segmentation": ("miou", "pixel_accuracy", "thresholded_iou"),
}
PROVENANCE_COLUMNS = ("device", "threads", "git_commit", "host", "created")


def run_metrics(run: Mapping[str, Any]) -> tuple[str, ...]:
    """The summary metrics of a run, by its task (classification for runs that name none)."""
    return METRICS[run.get("task", "classification")]


def run_table(runs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run: its metrics, training time and provenance."""
    return pd.DataFrame(
        [
            {
                **{k: run[k] for k in ("experiment", "network", "params", "seed")},
                **{m: run[m] for m in run_metrics(run)},
                "train_seconds": run["train_seconds"],
                **{k: run["provenance"][k] for k in PROVENANCE_COLUMNS},
                "torch": run["provenance"]["versions"]["torch"],
            }
            for run in runs
        ]
    )


def summary_table(
    runs: Sequence[Mapping[str, Any]], references: Mapping[str, Mapping[str, Mapping[str, Any]]]
) -> pd.DataFrame:
    """Mean/std over seeds per (experiment, network, metric), beside the reference's numbers."""
    long = pd.DataFrame(
        [
            {
                **{k: run[k] for k in ("experiment", "network", "params", "seed")},
                "metric": m,
                "value": run[m],
            }
            for run in runs
            for m in run_metrics(run)
        ]
    )
    summary = summarise(long)

    def reference(row: pd.Series, key: str) -> Any:
        return references.get(row["experiment"], {}).get(row["network"], {}).get(key)

    summary["reference"] = summary.apply(lambda row: reference(row, row["metric"]), axis=1)
    summary["reference_params"] = summary.apply(lambda row: reference(row, "params"), axis=1)
    return summary


def per_class_table(runs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per class, mean over seeds: precision, recall, F1 and support (classification), or IoU,
    true and predicted pixels (segmentation; a seed where the class is absent is skipped)."""
    rows = [
        {"experiment": run["experiment"], "network": run["network"], **c}
        for run in runs
        for c in run["per_class"]
    ]
    keys = ["experiment", "network", "class"]
    table = pd.DataFrame(rows)
    columns = [c for c in table.columns if c not in keys]
    return table.groupby(keys, sort=False)[columns].mean().reset_index()
