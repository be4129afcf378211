"""The first misclassified evaluation images of one variant's first-seed run."""

import pandas as pd

from visionrepro.data.datasets import ArrayDataset
from visionrepro.logs import setup_logging
from visionrepro.report import figures

setup_logging(snakemake.log[0])
w, params = snakemake.wildcards, snakemake.params
dataset = ArrayDataset.load(snakemake.input.data)
predictions = pd.read_csv(snakemake.input.predictions)
title = f"{w.experiment}, {w.variant}: misclassified {params.split} images"
figures.save(figures.misclassified(dataset, predictions, title, n=params.n), snakemake.output[0])
