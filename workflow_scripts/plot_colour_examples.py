"""Grey input, each variant's predicted colours (first seed, in that run's palette) and the
truth for a few evaluation images of one colourization experiment."""

import numpy as np

from visionrepro.data.colour import load_palette
from visionrepro.data.datasets import ArrayDataset
from visionrepro.logs import setup_logging
from visionrepro.report import figures

setup_logging(snakemake.log[0])
inputs, params = snakemake.input, snakemake.params
predictions, ids = {}, None
runs = zip(params.variants, inputs.predicted, inputs.palettes, strict=True)
for variant, path, palette in runs:
    with np.load(path) as data:
        predictions[variant] = (data["masks"][: params.n], load_palette(palette))
        if ids is not None and not np.array_equal(ids, data["ids"][: params.n]):
            raise ValueError(f"{path} predicts other images than {inputs.predicted[0]}")
        ids = data["ids"][: params.n]
dataset = ArrayDataset.load(inputs.data)
images = dataset.images[figures.positions(dataset, ids, params.classes)]
figures.save(figures.colour_examples(images, predictions, n=params.n), snakemake.output[0])
