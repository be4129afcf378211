"""What changed since an earlier run (compare_with): every (experiment, variant, metric) of both
runs compared seed by seed (rule changes)."""

import logging
from pathlib import Path

from visionrepro.compare.__main__ import terminal_table
from visionrepro.compare.changes import compare
from visionrepro.compare.inputs import read_side
from visionrepro.fileio import atomic_path
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
setting = snakemake.params.compare
# The earlier side as compare_with names it (a results folder gives its runs' settings).
before = read_side(Path(setting["path"]))
after = read_side(Path(snakemake.input.runs))
# The tolerances this run judges by (each experiment's): the change that matters.
table = compare(before, after, (setting["label"], "this run"), dict(snakemake.params.tolerances))
logging.getLogger("changes").info("since %s:\n%s", setting["label"], terminal_table(table))
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
