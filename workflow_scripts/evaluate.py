"""Evaluate one trained run on its eval split (rules evaluate, evaluate_dense)."""

import logging

from visionrepro.data.datasets import save_masks
from visionrepro.engine.checkpoints import load_trained
from visionrepro.engine.evaluation import evaluate
from visionrepro.engine.splits import load_split
from visionrepro.engine.training import configure_threads
from visionrepro.fileio import atomic_path, read_json, write_json
from visionrepro.logs import setup_logging
from visionrepro.provenance import data_digests

setup_logging(snakemake.log[0])
log = logging.getLogger("evaluate")
configure_threads(snakemake.threads)
inputs, data = snakemake.input, snakemake.params.data

run = read_json(inputs.history)
trained = load_trained(inputs.model)
split = data["eval_split"]
eval_set = load_split(
    inputs.val,
    masks=inputs.get("val_masks"),
    palette=inputs.get("palette"),
    classes=data["classes"],
)
result = evaluate(trained, eval_set, split)
metrics = result.metrics
log.info(
    "%s %s seed %s: %s",
    run["experiment"],
    run["variant"],
    run["seed"],
    ", ".join(f"{k} {metrics[k]:.4g}" for k in result.summary),
)
if trained.settings.kind.dense:
    save_masks(snakemake.output.masks, result.predictions, eval_set.ids)
write_json(
    snakemake.output.metrics,
    {
        **{k: run[k] for k in ("experiment", "network", "seed", "params", "variant")},
        "task": trained.settings.task,
        "classes": trained.classes,
        "summary_metrics": result.summary,
        **metrics,
        "train_seconds": round(sum(run["history"]["epoch_seconds"]), 1),
        "images_per_second": round(run["history"]["images_per_second"], 1),
        "precision": trained.settings.precision,
        "n_eval": len(eval_set),
        "provenance": {
            **run["provenance"],
            "data_sha256": {
                **run["provenance"].get("data_sha256", {}),
                **data_digests([inputs.val, inputs.get("val_masks"), inputs.get("palette")]),
            },
        },
    },
)
with atomic_path(snakemake.output.predictions) as tmp:
    result.table.to_csv(tmp, index=False)
