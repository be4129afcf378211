"""Evaluate one trained run on its eval split (rules evaluate, evaluate_dense)."""

import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from visionrepro.colour import load_palette, with_colour_targets
from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import atomic_path, read_json, write_json
from visionrepro.logs import setup_logging
from visionrepro.losses import make_loss
from visionrepro.metrics import classification_metrics, image_ious, segmentation_metrics
from visionrepro.models import build_network
from visionrepro.training import (
    TrainSettings,
    configure_threads,
    predict_with_loss,
    to_model_input,
    to_targets,
)

setup_logging(snakemake.log[0])
log = logging.getLogger("evaluate")
configure_threads(snakemake.threads)
inputs, data = snakemake.input, snakemake.params.data

trained = read_json(inputs.history)
record = trained["provenance"]
task = record.get("task", "classification")
settings = TrainSettings.from_config(record["train"], color=record["color"], task=task)
settings = replace(settings, **trained["history"].get("normalization", {}))
val = ArrayDataset.load(inputs.val, masks=inputs.get("val_masks") or None)
if data["classes"]:
    val = val.select_classes(data["classes"])
if inputs.get("palette"):
    val = with_colour_targets(val, load_palette(inputs.palette))
checkpoint = torch.load(inputs.model, map_location="cpu", weights_only=True)
options = {k: v for k, v in checkpoint.get("network_options", {}).items() if k != "weights_path"}
model = build_network(checkpoint["network"], len(checkpoint["classes"]), **options)
model.load_state_dict(checkpoint["state_dict"])
targets = to_targets(val, settings)
preds, loss = predict_with_loss(
    model,
    to_model_input(val.images, settings),
    targets,
    make_loss(settings.loss),
    settings.eval_batch_size,
)
preds = preds.numpy()
split = data["eval_split"]

if task == "classification":
    metrics = classification_metrics(val.labels, preds, val.classes, split=split)
    summary = [f"{split}_accuracy"]
    table = pd.DataFrame({"image_id": val.ids, "label": val.labels, "prediction": preds})
else:
    if task == "segmentation":
        metrics = segmentation_metrics(val.masks, preds, val.mask_classes, val.mask_values)
        summary = ["miou", "pixel_accuracy", "thresholded_iou"]
        per_image = {"iou": image_ious(val.masks, preds, val.mask_values)}
    else:
        metrics = {"pixel_accuracy": 100.0 * float((val.masks == preds).mean())}
        summary = ["pixel_accuracy", f"{split}_loss"]
        per_image = {}
    table = pd.DataFrame(
        {
            "image_id": val.ids,
            "label": val.labels,
            **per_image,
            "pixel_accuracy": (val.masks == preds).mean(axis=(1, 2)),
        }
    )
    with atomic_path(snakemake.output.masks) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, masks=preds.astype(np.uint8), ids=val.ids)
metrics[f"{split}_loss"] = loss
log.info(
    "%s %s seed %s: %s",
    trained["experiment"],
    trained.get("variant", trained["network"]),
    trained["seed"],
    ", ".join(f"{k} {metrics[k]:.4g}" for k in summary),
)
write_json(
    snakemake.output.metrics,
    {
        **{k: trained[k] for k in ("experiment", "network", "seed", "params")},
        "variant": trained.get("variant", trained["network"]),
        "task": task,
        "classes": checkpoint["classes"],
        "summary_metrics": summary,
        **metrics,
        "train_seconds": round(sum(trained["history"]["epoch_seconds"]), 1),
        "provenance": record,
    },
)
with atomic_path(snakemake.output.predictions) as tmp:
    table.to_csv(tmp, index=False)
