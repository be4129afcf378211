"""One summary metric per variant and experiment, with error bars over seeds."""

import pandas as pd

from visionrepro import figures
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
summary = pd.read_csv(snakemake.input.summary)
figures.save(figures.metric_bars(summary, snakemake.wildcards.metric), snakemake.output[0])
