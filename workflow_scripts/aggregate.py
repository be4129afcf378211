"""Collect every run's metrics into the summary, per-run and per-class tables, and the
histories of experiments with a convergence setting into the convergence table."""

import logging

from visionrepro.fileio import atomic_path, read_json
from visionrepro.logs import setup_logging
from visionrepro.tables import convergence_table, per_class_table, run_table, summary_table

setup_logging(snakemake.log[0])
runs = [read_json(path) for path in snakemake.input.metrics]
summary = summary_table(runs, snakemake.params.references)
convergence = convergence_table(
    [read_json(path) for path in snakemake.input.histories], snakemake.params.convergence
)
log = logging.getLogger("aggregate")
log.info("summary:\n%s", summary.to_string(index=False))
if len(convergence):
    log.info("convergence:\n%s", convergence.to_string(index=False))
for frame, path in (
    (summary, snakemake.output.summary),
    (run_table(runs), snakemake.output.runs),
    (per_class_table(runs), snakemake.output.per_class),
    (convergence, snakemake.output.convergence),
):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
