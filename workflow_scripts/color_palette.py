"""A colourization experiment's palette: k-means on its training pixels (rule color_palette)."""

import logging

from visionrepro.data.color import color_names, save_palette
from visionrepro.data.datasets import ArrayDataset
from visionrepro.data.palette import kmeans_palette
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
log = logging.getLogger("color_palette")
params = snakemake.params
train = ArrayDataset.load(snakemake.input.train)
if params.classes:
    train = train.select_classes(params.classes)
log.info("k-means on %d training images: %s", len(train), params.palette)
options = dict(params.palette)  # the config's palette: colours (its key), seed, ...
palette = kmeans_palette(train.images, colors=options.pop("colours"), **options)
log.info("palette: %s", " ".join(color_names(palette)))
save_palette(snakemake.output[0], palette)
