"""Obtain a dataset's official files (download, mirror or local copy) into its raw folder."""

from pathlib import Path

from visionrepro.data.torchvision_data import obtain
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
params = snakemake.params
obtain(
    snakemake.wildcards.dataset,
    Path(snakemake.output[0]),
    Path(params.downloads),
    url=params.transfer.url,
    local_dir=params.local_dir,
    md5_check=params.md5_check,
    workers=params.transfer.workers,
    **params.transfer.options(),
)
