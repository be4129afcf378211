"""One summary metric per network and experiment, with error bars over seeds."""

import pandas as pd

from visionrepro import figures
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
summary = pd.read_csv(snakemake.input.summary)
metric = snakemake.wildcards.metric
figures.save(figures.metric_bars(summary, metric, snakemake.params.label), snakemake.output[0])
