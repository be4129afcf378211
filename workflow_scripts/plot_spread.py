"""The headline metric of every seed per variant of one experiment, beside the reference."""

import pandas as pd

from visionrepro import figures
from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
metric = snakemake.params.metric
runs = [read_json(path) for path in snakemake.input.metrics]
values = pd.DataFrame(
    [{"variant": run["variant"], "seed": run["seed"], "value": run[metric]} for run in runs]
)
title = f"{snakemake.wildcards.experiment}: every seed, mean ± std and the reference"
figures.save(
    figures.spread(values, snakemake.params.references, metric, title), snakemake.output[0]
)
