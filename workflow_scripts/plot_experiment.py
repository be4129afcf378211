"""Loss curves and confusion matrices of one classification experiment."""

import numpy as np

from visionrepro import figures
from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
experiment = snakemake.wildcards.experiment

histories = [read_json(path) for path in snakemake.input.histories]
figures.save(figures.loss_curves(histories, f"{experiment}: loss"), snakemake.output.loss)

runs = [read_json(path) for path in snakemake.input.metrics]
matrices = {
    variant: sum(np.array(run["confusion_matrix"]) for run in group)
    for variant, group in figures.by_variant(runs).items()
}
title = f"{experiment}: {snakemake.params.split} confusion matrices, summed over seeds"
figures.save(
    figures.confusion_matrices(matrices, runs[0]["classes"], title),
    snakemake.output.confusion,
)
