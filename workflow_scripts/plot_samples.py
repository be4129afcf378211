"""Three training images per class."""

from visionrepro import figures
from visionrepro.datasets import ArrayDataset
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
dataset = ArrayDataset.load(snakemake.input.train)
figures.save(figures.sample_grid(dataset, per_class=3), snakemake.output[0])
