"""Evaluate one trained network on the val split: accuracy, precision/recall, confusion."""

import logging

import pandas as pd
import torch

from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import atomic_path, read_json, write_json
from visionrepro.logs import setup_logging
from visionrepro.metrics import classification_metrics
from visionrepro.models import build_network
from visionrepro.training import TrainSettings, configure_threads, predict, to_model_input

setup_logging(snakemake.log[0])
log = logging.getLogger("evaluate")
configure_threads(snakemake.threads)

trained = read_json(snakemake.input.history)
record = trained["provenance"]
settings = TrainSettings.from_config(record["train"], color=record["color"])
val = ArrayDataset.load(snakemake.input.val)
checkpoint = torch.load(snakemake.input.model, map_location="cpu", weights_only=True)
model = build_network(checkpoint["network"], len(checkpoint["classes"]))
model.load_state_dict(checkpoint["state_dict"])
preds = predict(model, to_model_input(val.images, settings), settings.eval_batch_size).numpy()

metrics = classification_metrics(val.labels, preds, val.classes)
log.info(
    "%s %s seed %s: val accuracy %.2f %%",
    trained["experiment"],
    trained["network"],
    trained["seed"],
    metrics["val_accuracy"],
)
write_json(
    snakemake.output.metrics,
    {
        **{k: trained[k] for k in ("experiment", "network", "seed", "params")},
        "classes": list(val.classes),
        **metrics,
        "train_seconds": round(sum(trained["history"]["epoch_seconds"]), 1),
        "provenance": record,
    },
)
with atomic_path(snakemake.output.predictions) as tmp:
    pd.DataFrame({"image_id": val.ids, "label": val.labels, "prediction": preds}).to_csv(
        tmp, index=False
    )
