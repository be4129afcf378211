"""Draw one figure of any kind (rules/report.smk's plot_<kind> rules): its drawing is
report/plots.py's, from the kind's named inputs and params."""

from visionrepro.logs import setup_logging
from visionrepro.report import figures, plots

setup_logging(snakemake.log[0])
kind = snakemake.params.kind
draw = plots.DRAW[kind]
figure = draw(
    dict(snakemake.input.items()),
    dict(snakemake.params.settings),
    dict(snakemake.wildcards.items()),
)
figures.save(figure, snakemake.output[0])
