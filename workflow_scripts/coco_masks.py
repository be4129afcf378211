"""Semantic masks of the subset's images, packed per split beside the images."""

import logging

import pandas as pd

from visionrepro.data.coco_masks import pack_masks
from visionrepro.data.coco_subset import load_coco
from visionrepro.data.datasets import save_masks
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
log = logging.getLogger("coco_masks")
manifest = pd.read_csv(snakemake.input.manifest)
cocos = {
    name: load_coco(path)
    for name, path in zip(
        snakemake.params.annotation_sets, snakemake.input.annotations, strict=True
    )
}
for split in ("train", "val"):
    masks = pack_masks(manifest, cocos, split, snakemake.params.size)
    ids = manifest.loc[manifest["split"] == split, "image_id"].to_numpy()
    save_masks(snakemake.output[split], masks, ids)
    log.info(
        "%s: %d masks %s, %.1f %% of pixels on an object",
        split,
        len(masks),
        masks.shape,
        100 * (masks > 0).mean(),
    )
