"""COCO 2017: the subset's semantic masks, rasterised from the annotations."""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from PIL import Image
from pycocotools.coco import COCO

from visionrepro.data.coco_subset import category_ids


def semantic_mask(coco: COCO, image_id: int, cat_id: int, value: int, size: int) -> np.ndarray:
    """The image's mask of category `cat_id` at size x size: `value` on it, 0 elsewhere.

    All the image's annotations of the category (polygons and RLE, crowd included) are
    rasterised with pycocotools at full size, then reduced by a majority rule: a pixel is on
    when at least half of its source area is (PIL's BOX average, like the images' resize).
    """
    info = coco.imgs[image_id]
    full = np.zeros((info["height"], info["width"]), dtype=np.uint8)
    for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image_id], catIds=[cat_id], iscrowd=None)):
        full |= coco.annToMask(ann)
    small = Image.fromarray(full * 255).resize((size, size), Image.Resampling.BOX)
    return np.where(np.asarray(small) >= 128, value, 0).astype(np.uint8)


def pack_masks(
    manifest: pd.DataFrame, cocos: Mapping[str, COCO], split: str, size: int
) -> np.ndarray:
    """The semantic masks of one split, in the order of `coco.pack` (uint8, N x size x size).

    Pixel values: 0 background, label + 1 on the image's category.
    """
    part = manifest[manifest["split"] == split]
    categories = sorted(set(part["category"]))
    cat_ids = {
        name: category_ids(coco, categories, f"instances_{name}.json")
        for name, coco in cocos.items()
    }
    masks = np.empty((len(part), size, size), dtype=np.uint8)
    rows = zip(
        part["annotation_set"], part["image_id"], part["category"], part["label"], strict=True
    )
    for i, (set_name, image_id, category, label) in enumerate(rows):
        cat_id = cat_ids[set_name][category]
        masks[i] = semantic_mask(cocos[set_name], int(image_id), cat_id, int(label) + 1, size)
    return masks
