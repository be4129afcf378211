"""Confusion matrices of one classification experiment, per variant over all its seeds."""

import numpy as np

from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging
from visionrepro.report import figures
from visionrepro.report.verdicts import plural

setup_logging(snakemake.log[0])
experiment = snakemake.wildcards.experiment
runs = [read_json(path) for path in snakemake.input.metrics]
groups = figures.by_variant(runs)
matrices = {
    f"{variant} ({plural(len(group), 'seed')})": sum(
        np.array(run["confusion_matrix"]) for run in group
    )
    for variant, group in groups.items()
}
title = f"{experiment}: {snakemake.params.split} confusion matrices, % of each true class"
figures.save(figures.confusion_matrices(matrices, runs[0]["classes"], title), snakemake.output[0])
