"""Collect every run's metrics into the at-a-glance (verdicts), comparisons, summary, per-run
and per-class tables, and the histories of experiments with a convergence setting into the
convergence table."""

import logging

from visionrepro.fileio import atomic_path, read_json
from visionrepro.logs import setup_logging
from visionrepro.report.tables import (
    convergence_table,
    headline_values,
    per_class_table,
    run_table,
    summary_table,
)
from visionrepro.report.verdicts import comparison_table, glance_table, headline

setup_logging(snakemake.log[0])
params, output = snakemake.params, snakemake.output
runs = [read_json(path) for path in snakemake.input.metrics]
table = run_table(runs)
glance = glance_table(table, params.settings)
comparisons = comparison_table(
    headline_values(table, params.metrics),
    params.groups,
    params.paired,
    params.headline_references,
)
convergence = convergence_table(
    [read_json(path) for path in snakemake.input.histories], params.convergence
)
log = logging.getLogger("aggregate")
log.info("%s\n%s", headline(glance), glance.to_string(index=False))
if len(convergence):
    log.info("convergence:\n%s", convergence.to_string(index=False))
for frame, path in (
    (glance, output.glance),
    (comparisons, output.comparisons),
    (summary_table(runs, params.references), output.summary),
    (table, output.runs),
    (per_class_table(runs), output.per_class),
    (convergence, output.convergence),
):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
