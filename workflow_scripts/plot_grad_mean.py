"""The mean gradient over the first training steps, per variant of one experiment."""

from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging
from visionrepro.report import figures

setup_logging(snakemake.log[0])
histories = [read_json(path) for path in snakemake.input.histories]
title = f"{snakemake.wildcards.experiment}: mean gradient of all parameters per step"
figures.save(figures.grad_means(histories, title), snakemake.output[0])
