"""Val IoU per class and variant of one segmentation experiment."""

import pandas as pd

from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging
from visionrepro.report import figures

setup_logging(snakemake.log[0])
runs = [read_json(path) for path in snakemake.input.metrics]
ious = pd.DataFrame(
    [{"variant": run["variant"], **c} for run in runs for c in run["per_class"]]
).dropna(subset=["iou"])
title = f"{snakemake.wildcards.experiment}: val IoU per class"
figures.save(figures.per_class_iou(ious, title), snakemake.output[0])
