"""Evaluate one trained network on the val split (rules evaluate, evaluate_segmentation)."""

import logging

import numpy as np
import pandas as pd
import torch

from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import atomic_path, read_json, write_json
from visionrepro.logs import setup_logging
from visionrepro.metrics import classification_metrics, image_ious, segmentation_metrics
from visionrepro.models import build_network
from visionrepro.training import TrainSettings, configure_threads, predict, to_model_input

setup_logging(snakemake.log[0])
log = logging.getLogger("evaluate")
configure_threads(snakemake.threads)

trained = read_json(snakemake.input.history)
record = trained["provenance"]
task = record.get("task", "classification")
settings = TrainSettings.from_config(record["train"], color=record["color"], task=task)
val = ArrayDataset.load(snakemake.input.val, masks=snakemake.input.get("val_masks"))
checkpoint = torch.load(snakemake.input.model, map_location="cpu", weights_only=True)
model = build_network(checkpoint["network"], len(checkpoint["classes"]))
model.load_state_dict(checkpoint["state_dict"])
preds = predict(model, to_model_input(val.images, settings), settings.eval_batch_size).numpy()

if task == "segmentation":
    metrics = segmentation_metrics(val.masks, preds, val.mask_classes, val.mask_values)
    table = pd.DataFrame(
        {
            "image_id": val.ids,
            "label": val.labels,
            "iou": image_ious(val.masks, preds, val.mask_values),
            "pixel_accuracy": (val.masks == preds).mean(axis=(1, 2)),
        }
    )
    with atomic_path(snakemake.output.masks) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, masks=preds.astype(np.uint8), ids=val.ids)
else:
    metrics = classification_metrics(val.labels, preds, val.classes)
    table = pd.DataFrame({"image_id": val.ids, "label": val.labels, "prediction": preds})
scores = {k: v for k, v in metrics.items() if isinstance(v, float)}
log.info(
    "%s %s seed %s: %s",
    trained["experiment"],
    trained["network"],
    trained["seed"],
    ", ".join(f"{k} {v:.2f} %" for k, v in scores.items()),
)
write_json(
    snakemake.output.metrics,
    {
        **{k: trained[k] for k in ("experiment", "network", "seed", "params")},
        "task": task,
        "classes": checkpoint["classes"],
        **metrics,
        "train_seconds": round(sum(trained["history"]["epoch_seconds"]), 1),
        "provenance": record,
    },
)
with atomic_path(snakemake.output.predictions) as tmp:
    table.to_csv(tmp, index=False)
