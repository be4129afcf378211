"""Pack the cached subset images into one uint8 array file per split."""

import logging
from pathlib import Path

import pandas as pd

from visionrepro.data.coco import pack
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
log = logging.getLogger("coco_pack")
manifest = pd.read_csv(snakemake.input.manifest)
cache = Path(snakemake.input.index).parent
for split in ("train", "val"):
    data = pack(manifest, cache, split, snakemake.params.size, snakemake.params.categories)
    data.save(snakemake.output[split])
    log.info("%s: %d images %s", split, len(data), data.images.shape)
