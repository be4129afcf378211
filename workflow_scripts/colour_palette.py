"""A colourization experiment's palette: k-means on its training pixels (rule colour_palette)."""

import logging

from visionrepro.colour import colour_names, kmeans_palette, save_palette
from visionrepro.datasets import ArrayDataset
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
log = logging.getLogger("colour_palette")
params = snakemake.params
train = ArrayDataset.load(snakemake.input.train)
if params.classes:
    train = train.select_classes(params.classes)
log.info("k-means with %d colours on %d training images", params.palette["colours"], len(train))
palette = kmeans_palette(train.images, **params.palette)
log.info("palette: %s", " ".join(colour_names(palette)))
save_palette(snakemake.output[0], palette)
