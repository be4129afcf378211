"""Fetch the COCO annotation archive (or use a local copy) and extract instances_*.json."""

from pathlib import Path

from visionrepro.data.coco import obtain_annotations
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
params = snakemake.params
obtain_annotations(
    [Path(p) for p in snakemake.output],
    url=params.transfer.url,
    md5=params.md5,
    archive=Path(params.archive),
    local_dir=params.local_dir,
    **params.transfer.options(),
)
