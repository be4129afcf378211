"""Assemble the self-contained HTML report, and the at-a-glance table as a page of its own for
Snakemake's report (its category "At a glance")."""

import numpy as np
import pandas as pd

from visionrepro.fileio import atomic_path
from visionrepro.logs import setup_logging
from visionrepro.report import html as report
from visionrepro.report.tables import dataset_table

setup_logging(snakemake.log[0])
inputs, params = snakemake.input, snakemake.params
config = params.config
figures = [
    report.FigureEntry(
        entry["section"],
        entry["title"],
        entry["path"],
        report.caption(entry["caption"], config, entry["wildcards"]),
        entry["folded"],
    )
    for entry in params.figures
]
splits = {}
for (dataset, split), path in zip(params.packs, inputs.packs, strict=True):
    with np.load(path) as data:  # reads only these two arrays, not the images
        splits[(dataset, split)] = (data["labels"], [str(c) for c in data["classes"]])
tables = report.Tables(
    **{
        name: pd.read_csv(getattr(inputs, name))
        for name in ("glance", "comparisons", "summary", "convergence", "per_class", "runs")
    },
    datasets=dataset_table(splits),
)
html = report.render(
    tables=tables,
    figures=figures,
    config=config,
    configfiles=params.configfiles,
    experiments=params.experiments,
    notes_html=report.notes(inputs.notes, config),
    changes=pd.read_csv(inputs.changes) if inputs.get("changes") else None,
    compare_label=params.compare["label"],
)
for text, path in (
    (html, snakemake.output.page),
    (report.glance_page(tables.glance), snakemake.output.glance),
):
    with atomic_path(path) as tmp:
        tmp.write_text(text)
