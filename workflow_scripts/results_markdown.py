"""Write RESULTS.md, the at-a-glance table per experiment as GitHub Markdown, and its headline
alone (the last line of a finished run, Snakefile's onsuccess) (rule results_md)."""

import pandas as pd

from visionrepro.fileio import atomic_path
from visionrepro.logs import setup_logging
from visionrepro.report import verdicts
from visionrepro.report.results_markdown import results_markdown

setup_logging(snakemake.log[0])
glance = pd.read_csv(snakemake.input.glance, keep_default_na=False, na_values=[""])
text = results_markdown(
    glance,
    descriptions=snakemake.params.descriptions,
    configfiles=snakemake.params.configfiles,
    note=snakemake.params.note,
    runs=pd.read_csv(snakemake.input.runs, keep_default_na=False, na_values=[""]),
    seed_notes=snakemake.params.seed_notes,
)
with atomic_path(snakemake.output.markdown) as tmp:
    tmp.write_text(text)
with atomic_path(snakemake.output.headline) as tmp:
    tmp.write_text(verdicts.headline(glance) + "\n")
