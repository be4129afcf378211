"""Collect every run's metrics into the at-a-glance (verdicts), comparisons, summary, per-run
and per-class tables, and the histories of experiments with a convergence setting into the
convergence table (rule aggregate)."""

import logging

from visionrepro.fileio import atomic_path, read_json
from visionrepro.logs import setup_logging
from visionrepro.report.aggregate import tables
from visionrepro.report.verdicts import headline

setup_logging(snakemake.log[0])
made = tables(
    [read_json(path) for path in snakemake.input.metrics],
    [read_json(path) for path in snakemake.input.histories],
    snakemake.params.experiments,
)
log = logging.getLogger("aggregate")
log.info("%s\n%s", headline(made["glance"]), made["glance"].to_string(index=False))
if len(made["convergence"]):
    log.info("convergence:\n%s", made["convergence"].to_string(index=False))
for name, frame in made.items():
    with atomic_path(getattr(snakemake.output, name)) as tmp:
        frame.to_csv(tmp, index=False)
