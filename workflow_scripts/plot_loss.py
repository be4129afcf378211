"""Loss curves of one experiment's variants."""

from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging
from visionrepro.report import figures

setup_logging(snakemake.log[0])
histories = [read_json(path) for path in snakemake.input.histories]
title = f"{snakemake.wildcards.experiment}: loss"
figures.save(figures.loss_curves(histories, title), snakemake.output[0])
