"""One experiment's headline metric: every seed, the mean with its interval and verdict, and
the reference."""

from visionrepro.fileio import read_json
from visionrepro.logs import setup_logging
from visionrepro.report import figures
from visionrepro.report.tables import headline_values, run_table
from visionrepro.report.verdicts import glance_table

setup_logging(snakemake.log[0])
experiment, settings = snakemake.wildcards.experiment, snakemake.params.settings
runs = run_table([read_json(path) for path in snakemake.input.metrics])
metric = settings["metric"]
glance = glance_table(runs, {experiment: settings})
values = headline_values(runs, {experiment: metric})
title = f"{experiment}: {figures.metric_label(metric)}"
figures.save(
    figures.headline(values, glance[glance["metric"] == metric], metric, title),
    snakemake.output[0],
)
