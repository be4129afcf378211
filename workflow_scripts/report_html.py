"""Assemble the self-contained HTML report."""

from pathlib import Path

import numpy as np
import pandas as pd

from visionrepro.fileio import atomic_path
from visionrepro.logs import setup_logging
from visionrepro.report import FigureEntry, render
from visionrepro.tables import dataset_table

setup_logging(snakemake.log[0])
inputs, params = snakemake.input, snakemake.params
captions = {Path(p).stem: Path(p).read_text().strip() for p in inputs.captions}
figures = [
    FigureEntry(section, title, path, captions[caption])
    for section, title, path, caption in params.figures
]
splits = {}
for (dataset, split), path in zip(params.packs, inputs.packs, strict=True):
    with np.load(path) as data:  # reads only these two arrays, not the images
        splits[(dataset, split)] = (data["labels"], [str(c) for c in data["classes"]])
notes = [
    line[2:].strip()
    for line in Path(inputs.notes).read_text().splitlines()
    if line.startswith("- ")
]
html = render(
    summary=pd.read_csv(inputs.summary),
    convergence=pd.read_csv(inputs.convergence),
    per_class=pd.read_csv(inputs.per_class),
    runs=pd.read_csv(inputs.runs),
    datasets=dataset_table(splits),
    figures=figures,
    config=params.config,
    notes=notes,
)
with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(html)
