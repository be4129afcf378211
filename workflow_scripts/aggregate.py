"""Collect every run's metrics into the summary, per-run and per-class tables."""

import logging

import pandas as pd

from visionrepro.fileio import atomic_path, read_json
from visionrepro.logs import setup_logging
from visionrepro.metrics import summarise

setup_logging(snakemake.log[0])
log = logging.getLogger("aggregate")
runs = [read_json(path) for path in snakemake.input.metrics]
references = snakemake.params.references
METRICS = ("val_accuracy",)

rows, run_rows, class_rows = [], [], []
for run in runs:
    key = {k: run[k] for k in ("experiment", "network", "params")}
    rows += [{**key, "seed": run["seed"], "metric": m, "value": run[m]} for m in METRICS]
    record = run["provenance"]
    run_rows.append(
        {
            **key,
            "seed": run["seed"],
            **{m: run[m] for m in METRICS},
            "device": record["device"],
            "threads": record["threads"],
            "train_seconds": run["train_seconds"],
            "git_commit": record["git_commit"],
            "torch": record["versions"]["torch"],
            "host": record["host"],
            "created": record["created"],
        }
    )
    class_rows += [
        {"experiment": run["experiment"], "network": run["network"], "seed": run["seed"], **c}
        for c in run["per_class"]
    ]

summary = summarise(pd.DataFrame(rows))
summary["reference"] = [
    references.get(e, {}).get(n, {}).get(m)
    for e, n, m in zip(summary["experiment"], summary["network"], summary["metric"], strict=True)
]
summary["reference_params"] = [
    references.get(e, {}).get(n, {}).get("params")
    for e, n in zip(summary["experiment"], summary["network"], strict=True)
]
per_class = (
    pd.DataFrame(class_rows)
    .groupby(["experiment", "network", "class"], sort=False)[
        ["precision", "recall", "f1", "support"]
    ]
    .mean()
    .reset_index()
)
log.info("summary:\n%s", summary.to_string(index=False))
for frame, path in (
    (summary, snakemake.output.summary),
    (pd.DataFrame(run_rows), snakemake.output.runs),
    (per_class, snakemake.output.per_class),
):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
