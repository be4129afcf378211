"""The result tables: every run's metrics collected into summary, per-run, per-class, convergence
and dataset tables."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from visionrepro.metrics import summarise

# The summary metrics of runs whose metrics.json has no `summary_metrics` (COCO runs, val split).
METRICS = {
    "classification": ("val_accuracy",),
    "segmentation": ("miou", "pixel_accuracy", "thresholded_iou"),
}
RUN_KEYS = ("experiment", "variant", "network", "params", "seed")
PROVENANCE_COLUMNS = ("device", "threads", "git_commit", "host", "created")
CONVERGENCE_COLUMNS = (
    "experiment",
    "variant",
    "network",
    "seed",
    "metric",
    "threshold",
    "epochs",
    "reached",
    "epoch",
)


def run_metrics(run: Mapping[str, Any]) -> tuple[str, ...]:
    """The summary metrics of a run: its `summary_metrics`, else those of its task."""
    return tuple(run.get("summary_metrics") or METRICS[run.get("task", "classification")])


def run_table(runs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run: its metrics, training time and provenance."""
    return pd.DataFrame(
        [
            {
                **{k: run[k] for k in RUN_KEYS},
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
    """Mean/std/min/max over seeds per (experiment, variant, metric), beside the reference's
    numbers (`references[experiment][variant][metric]` and its `params`)."""
    long = pd.DataFrame(
        [
            {**{k: run[k] for k in RUN_KEYS}, "metric": m, "value": run[m]}
            for run in runs
            for m in run_metrics(run)
        ]
    )
    summary = summarise(long)

    def reference(row: pd.Series, key: str) -> Any:
        return references.get(row["experiment"], {}).get(row["variant"], {}).get(key)

    summary["reference"] = summary.apply(lambda row: reference(row, row["metric"]), axis=1)
    summary["reference_params"] = summary.apply(lambda row: reference(row, "params"), axis=1)
    return summary


def per_class_table(runs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per class, mean over seeds: precision, recall, F1 and support (classification), or IoU,
    true and predicted pixels (segmentation; a seed where the class is absent is skipped).
    Runs without per-class scores (colorization) have no rows."""
    keys = ["experiment", "variant", "network", "class"]
    rows = [
        {**{k: run[k] for k in keys[:-1]}, **c} for run in runs for c in run.get("per_class", [])
    ]
    if not rows:
        return pd.DataFrame(columns=keys)
    table = pd.DataFrame(rows)
    columns = [c for c in table.columns if c not in keys]
    return table.groupby(keys, sort=False)[columns].mean().reset_index()


def first_epoch_reaching(values: Sequence[float], threshold: float) -> int | None:
    """The first epoch (1-based) whose value is at least `threshold`, or None if none is."""
    reached = np.flatnonzero(np.asarray(values, dtype=float) >= threshold)
    return int(reached[0]) + 1 if len(reached) else None


def convergence_table(
    histories: Sequence[Mapping[str, Any]], settings: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """Per run (train.json records) of an experiment with a `convergence: {metric, threshold}`
    setting (`settings[experiment]`): the first epoch at which the per-epoch history of the
    metric reaches the threshold; `reached` is false (epoch empty) if no epoch of the budget
    does."""
    rows = []
    for run in histories:
        setting = settings.get(run["experiment"])
        if setting is None:
            continue
        values = run["history"][setting["metric"]]
        epoch = first_epoch_reaching(values, setting["threshold"])
        rows.append(
            {
                **{k: run[k] for k in ("experiment", "variant", "network", "seed")},
                "metric": setting["metric"],
                "threshold": setting["threshold"],
                "epochs": len(values),
                "reached": epoch is not None,
                "epoch": epoch,
            }
        )
    table = pd.DataFrame(rows, columns=list(CONVERGENCE_COLUMNS))
    return table.astype({"reached": bool, "epoch": "Int64"})


def dataset_table(
    splits: Mapping[tuple[str, str], tuple[np.ndarray, Sequence[str]]],
) -> pd.DataFrame:
    """Images per class of each dataset (rows) and split (columns), from each packed split's
    labels and class names (`splits[(dataset, split)]`)."""
    rows = [
        {"dataset": dataset, "split": split, "class": classes[label], "images": count}
        for (dataset, split), (labels, classes) in splits.items()
        for label, count in zip(*np.unique(labels, return_counts=True), strict=True)
    ]
    table = pd.DataFrame(rows).pivot_table(
        index=["dataset", "class"],
        columns="split",
        values="images",
        aggfunc="sum",
        sort=False,
        fill_value=0,
    )
    return table.reset_index().rename_axis(columns=None)
