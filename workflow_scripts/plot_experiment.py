"""Loss curves and confusion matrices of one experiment."""

import numpy as np
import pandas as pd

from visionrepro import figures
from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
experiment = snakemake.wildcards.experiment

curves: dict[str, list[pd.DataFrame]] = {}
for path in snakemake.input.histories:
    run = read_json(path)
    curves.setdefault(run["network"], []).append(pd.DataFrame(run["history"]["loss"]))
figures.save(figures.loss_curves(curves, f"{experiment}: training loss"), snakemake.output.loss)

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
