"""Loss curves and confusion matrices of one classification experiment."""

import numpy as np

from visionrepro import figures
from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
experiment = snakemake.wildcards.experiment

histories = [read_json(path) for path in snakemake.input.histories]
figures.save(
    figures.loss_curves(figures.curves_by_network(histories), f"{experiment}: training loss"),
    snakemake.output.loss,
)

matrices: dict[str, np.ndarray] = {}
for path in snakemake.input.metrics:
    run = read_json(path)
    classes = run["classes"]
    matrices[run["network"]] = matrices.get(run["network"], 0) + np.array(run["confusion_matrix"])
figures.save(
    figures.confusion_matrices(
        matrices, classes, f"{experiment}: val confusion matrices, summed over seeds"
    ),
    snakemake.output.confusion,
)
