"""Pack a dataset's train and test splits into one uint8 array file each."""

import logging
from pathlib import Path

import numpy as np

from visionrepro.data.torchvision_config import SPLITS
from visionrepro.data.torchvision_data import pack
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
log = logging.getLogger("source_pack")
dataset = snakemake.wildcards.dataset
for split in SPLITS:
    data = pack(dataset, Path(snakemake.input.raw), split, md5_check=snakemake.params.md5_check)
    data.save(snakemake.output[split])
    counts = np.bincount(data.labels, minlength=len(data.classes))
    log.info(
        "%s %s: %d images %s; per class %s", dataset, split, len(data), data.images.shape, counts
    )
