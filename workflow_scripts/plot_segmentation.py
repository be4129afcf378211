"""Every segmentation experiment's networks (first seed) on the same val images of a dataset."""

import numpy as np

from visionrepro.data.datasets import ArrayDataset
from visionrepro.logs import setup_logging
from visionrepro.report import figures

setup_logging(snakemake.log[0])
inputs, params = snakemake.input, snakemake.params
val = ArrayDataset.load(inputs.val, masks=inputs.val_masks)
predictions = {}
for (experiment, variant), path in zip(params.runs, inputs.predicted, strict=True):
    with np.load(path) as data:
        if not np.array_equal(data["ids"], val.ids):
            raise ValueError(f"{path} predicts other images than {inputs.val}: rerun it")
        predictions[f"{experiment}\n{variant}"] = data["masks"]
figures.save(
    figures.segmentation_comparison(val, predictions, per_class=params.per_class),
    snakemake.output[0],
)
