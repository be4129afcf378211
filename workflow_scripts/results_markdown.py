"""Write RESULTS.md, the at-a-glance table per experiment as GitHub Markdown; its headline alone
(the last line of a finished run, Snakefile's onsuccess); and RESULTS.json, what else RESULTS.md
was written from, so that it can be recomputed from runs.csv (report/republish.py) (rule
results_md)."""

import pandas as pd

from visionrepro.fileio import atomic_path, write_json
from visionrepro.logs import setup_logging
from visionrepro.report import verdicts
from visionrepro.report.results_markdown import results_markdown

setup_logging(snakemake.log[0])
params = snakemake.params
glance = pd.read_csv(snakemake.input.glance, keep_default_na=False, na_values=[""])
recipe = {
    "experiments": dict(params.experiments),
    "configfiles": list(params.configfiles),
    "note": params.note,
}
text = results_markdown(
    glance,
    experiments=recipe["experiments"],
    configfiles=recipe["configfiles"],
    note=recipe["note"],
    runs=pd.read_csv(snakemake.input.runs, keep_default_na=False, na_values=[""]),
    changes_table=pd.read_csv(changes) if (changes := snakemake.input.get("changes")) else None,
    compare_label=params.compare["label"],
)
with atomic_path(snakemake.output.markdown) as tmp:
    tmp.write_text(text)
with atomic_path(snakemake.output.headline) as tmp:
    tmp.write_text(verdicts.headline_line(glance) + "\n")
write_json(snakemake.output.recipe, recipe)
