"""Loss curves, per-class IoU and val predictions of one segmentation experiment."""

import numpy as np
import pandas as pd

from visionrepro import figures
from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
experiment = snakemake.wildcards.experiment
inputs = snakemake.input

histories = [read_json(path) for path in inputs.histories]
figures.save(figures.loss_curves(histories, f"{experiment}: loss"), snakemake.output.loss)

runs = [read_json(path) for path in inputs.metrics]
ious = pd.DataFrame(
    [{"variant": run["variant"], **c} for run in runs for c in run["per_class"]]
).dropna(subset=["iou"])
figures.save(
    figures.per_class_iou(ious, f"{experiment}: val IoU per class"), snakemake.output.per_class
)

val = ArrayDataset.load(inputs.val, masks=inputs.val_masks)
predictions = {}
for variant, path in zip(snakemake.params.variants, inputs.predicted, strict=True):
    with np.load(path) as data:
        predictions[variant] = data["masks"]
figures.save(
    figures.segmentation_examples(val, predictions, per_class=snakemake.params.per_class),
    snakemake.output.predictions,
)
