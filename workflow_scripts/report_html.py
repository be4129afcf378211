"""Assemble the self-contained HTML report."""

from pathlib import Path

import pandas as pd

from visionrepro.fileio import atomic_path
from visionrepro.logs import setup_logging
from visionrepro.report import FigureEntry, render

setup_logging(snakemake.log[0])
inputs = snakemake.input
captions = {Path(p).stem: Path(p).read_text().strip() for p in inputs.captions}
figures = [
    FigureEntry(section, title, path, captions[caption])
    for section, title, path, caption in snakemake.params.figures
]
manifest = pd.read_csv(inputs.manifest)
datasets = (
    manifest.groupby(["category", "split"])
    .size()
    .unstack(fill_value=0)
    .reset_index()
    .rename_axis(columns=None)
)
notes = [
    line[2:].strip()
    for line in Path(inputs.notes).read_text().splitlines()
    if line.startswith("- ")
]
html = render(
    summary=pd.read_csv(inputs.summary),
    per_class=pd.read_csv(inputs.per_class),
    runs=pd.read_csv(inputs.runs),
    datasets=datasets,
    figures=figures,
    config=snakemake.params.config,
    notes=notes,
)
with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(html)
