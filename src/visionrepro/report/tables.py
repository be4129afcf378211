"""The result tables: every run's metrics collected into summary, per-run, per-class, convergence
and dataset tables."""

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from visionrepro.engine.metrics import summarise
from visionrepro.errors import UserError
from visionrepro.provenance import PACKAGES
from visionrepro.report.measures import measure_columns
from visionrepro.report.verdicts import (
    CHANCE_MARGIN,
    chance_margin,
    is_chance,
    reference_metrics,
)
from visionrepro.tasks import TASKS

RUN_KEYS = ("experiment", "variant", "network", "params", "seed")
PROVENANCE_COLUMNS = ("device", "device_name", "threads", "host", "created")
VERSION_COLUMNS = ("python", *(p for p in PACKAGES if p != "visionrepro"))
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


class TableError(UserError, ValueError):
    """A result table that is not one the workflow wrote; the message names it and the fix."""


def check_table(path: str) -> str:
    """`path`, if it is missing (to be made) or a table the workflow wrote (a CSV file with an
    `experiment` column); else a TableError naming it and how to rebuild it.

    Run when the workflow plans its jobs: a damaged table then stops the run before the job
    that reads it starts (Snakemake deletes a job's old outputs, here the report, when it does).
    """
    if not os.path.exists(path):
        return path
    try:
        columns = pd.read_csv(path).columns
    except (ValueError, UnicodeDecodeError) as err:  # pandas' parser and empty-data errors
        problem = f"cannot be read as CSV ({type(err).__name__}: {err})"
    else:
        if "experiment" in columns:
            return path
        problem = f"has no 'experiment' column (columns: {list(columns)[:8]})"
    raise TableError(
        f"{path} {problem}: it is not a table this workflow wrote. Delete it and rerun: the "
        "tables and the report are made again from the runs' metrics, and the report so far "
        "is kept until then"
    )


def run_metrics(run: Mapping[str, Any]) -> tuple[str, ...]:
    """The summary metrics of a run (its metrics.json's `summary_metrics`)."""
    return tuple(run["summary_metrics"])


def predicted_classes(run: Mapping[str, Any]) -> int | None:
    """How many classes a run ever predicts (columns of its confusion matrix, of images or of
    pixels, with a prediction); None for runs without one (colorization)."""
    if "confusion_matrix" not in run:
        return None
    return int((np.asarray(run["confusion_matrix"]).sum(axis=0) > 0).sum())


def at_chance(run: Mapping[str, Any]) -> bool:
    """Whether a run is at chance level (verdicts.is_chance): by its score (classification and
    colorization accuracy within a margin of 100 / classes; segmentation's mIoU at most
    100 / classes, what predicting one class everywhere scores; its pixel accuracy is dominated
    by the background) or by the number of classes it predicts."""
    kind = TASKS[run.get("task", "classification")]
    score, margin = None, CHANCE_MARGIN
    if not kind.dense:
        score = run[run_metrics(run)[0]]
    elif kind.palette:
        score = run["pixel_accuracy"]
    elif "miou" in run:
        score, margin = run["miou"], chance_margin("miou")
    return is_chance(len(run["classes"]), score, predicted_classes(run), margin)


def code_version(record: Mapping[str, Any]) -> str:
    """A run's code version, then each project file it imported with its SHA-256's first 12
    digits ("git abc123; nets/tiny.py 0f1e2d3c4b5a"); records written before code versions
    existed give their commit."""
    base = record.get("code_version") or f"git {record['git_commit']}"
    files = record.get("project_files") or {}
    return "; ".join([base, *(f"{path} {digest[:12]}" for path, digest in sorted(files.items()))])


# A run's resolved settings in its provenance record (metrics.json): the runs table's `settings`.
SETTING_KEYS = ("train", "color", "task", "network", "network_options", "dataset")


def run_settings(provenance: Mapping[str, Any]) -> str:
    """A run's resolved settings (SETTING_KEYS of its provenance) as JSON."""
    return json.dumps({k: provenance[k] for k in SETTING_KEYS if k in provenance}, sort_keys=True)


# The data packs a run reads (its splits and their masks): the data version is theirs. A
# colourization run's palette is recorded too, but it is a draw of the run's seed (its seed note
# says so), not a version of the data.
PACK_NAME = re.compile(r"^(train|val|test)(_masks)?\.npz$")


def data_version(provenance: Mapping[str, Any]) -> str:
    """A short SHA-256 over the data packs a run trained and was scored on (their names and
    digests), or "" for records made before runs recorded them."""
    digests = {k: v for k, v in (provenance.get("data_sha256") or {}).items() if PACK_NAME.match(k)}
    if not digests:
        return ""
    text = json.dumps(digests, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _histories_by_run(
    histories: Sequence[Mapping[str, Any]],
) -> dict[tuple[Any, Any, Any], Mapping[str, Any]]:
    """Each train.json record's history by (experiment, variant, seed)."""
    return {(h["experiment"], h["variant"], h["seed"]): h["history"] for h in histories}


def run_table(
    runs: Sequence[Mapping[str, Any]],
    histories: Sequence[Mapping[str, Any]] = (),
    measures: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per run: its metrics (and the `measures` the references name that it gives:
    report/measures.py, from its metrics.json and its train.json among `histories`), whether it
    is at chance level, its classes and evaluation set's size, training time, resolved settings
    (JSON: train, network, dataset, ...), data form and version, code version and provenance
    (device, CPU, threads, host, date, versions)."""
    by_run = _histories_by_run(histories)
    return pd.DataFrame(
        [
            {
                **{k: run[k] for k in RUN_KEYS},
                **{m: run[m] for m in run_metrics(run)},
                **measure_columns(
                    run, by_run.get((run["experiment"], run["variant"], run["seed"])), measures
                ),
                "chance": at_chance(run),
                "n_classes": len(run["classes"]),
                "n_eval": run.get("n_eval"),
                "train_seconds": run["train_seconds"],
                "images_per_second": run["images_per_second"],
                "precision": run["precision"],
                "settings": run_settings(run["provenance"]),
                "data_form": run["provenance"].get("dataset", {}).get("form", ""),
                "data_version": data_version(run["provenance"]),
                "code_version": code_version(run["provenance"]),
                "cpu": run["provenance"].get("cpu", ""),
                **{k: run["provenance"][k] for k in PROVENANCE_COLUMNS},
                **{k: run["provenance"]["versions"].get(k, "") for k in VERSION_COLUMNS},
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

    summary["reference"] = summary.apply(
        lambda row: reference_metrics(
            references.get(row["experiment"], {}).get(row["variant"], {})
        ).get(row["metric"]),
        axis=1,
    )
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
    """Per dataset (rows): its number of classes and the images of each split (columns: train,
    then the others as they come), from each packed split's labels and class names
    (`splits[(dataset, split)]`)."""
    rows = [
        {"dataset": dataset, "split": split, "classes": len(classes), "images": len(labels)}
        for (dataset, split), (labels, classes) in splits.items()
    ]
    long = pd.DataFrame(rows)
    wide = long.pivot(index="dataset", columns="split", values="images")
    order = sorted(dict.fromkeys(long["split"]), key=lambda split: split != "train")
    table = wide[order].astype("Int64").rename_axis(columns=None)
    table.insert(0, "classes", long.groupby("dataset")["classes"].max())
    return table.reset_index()


def headline_values(runs: pd.DataFrame, metrics: Mapping[str, str]) -> pd.DataFrame:
    """Each run's value of its experiment's headline metric (`metrics[experiment]`): a long
    table of experiment, variant, seed, value and chance (run_table's rows, in order)."""
    value = [row[metrics[row["experiment"]]] for _, row in runs.iterrows()]
    return runs[["experiment", "variant", "seed", "chance"]].assign(value=value)
