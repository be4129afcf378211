"""Fetch, check and resize the subset's images into the image cache (resumable)."""

import logging
from pathlib import Path

import pandas as pd

from visionrepro.data.coco import cached_image_path, obtain_images
from visionrepro.fileio import atomic_path
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
log = logging.getLogger("coco_images")
params = snakemake.params

manifest = pd.read_csv(snakemake.input.manifest)
cache = Path(snakemake.output.index).parent
transfer = params.transfer
images_url = Path(params.local_dir).resolve().as_uri() + "/" if params.local_dir else transfer.url
log.info("fetching %d images from %s into %s", len(manifest), images_url, cache)
fetched = obtain_images(
    manifest, images_url, cache, size=params.size, workers=transfer.workers, **transfer.options()
)
log.info("done: %d fetched, %d already cached", fetched, len(manifest) - fetched)
index = manifest[["image_id", "annotation_set", "file_name"]].copy()
index["path"] = [
    str(cached_image_path(cache, s, f))
    for s, f in zip(index["annotation_set"], index["file_name"], strict=True)
]
with atomic_path(snakemake.output.index) as tmp:
    index.to_csv(tmp, index=False)
