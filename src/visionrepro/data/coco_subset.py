"""COCO 2017: drawing the exclusive-category subset from the annotations (the manifest)."""

import hashlib
import io
import logging
from collections.abc import Mapping, Sequence
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
from pycocotools.coco import COCO

from visionrepro.errors import UserError

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = [
    "image_id",
    "file_name",
    "annotation_set",
    "category",
    "label",
    "split",
    "coco_url",
    "width",
    "height",
]


class SubsetError(UserError, ValueError):
    """The requested subset cannot be drawn from the annotations."""


class _LogLines(io.TextIOBase):
    """A text stream that logs each line written to it (pycocotools prints its progress)."""

    def __init__(self, prefix: str) -> None:
        self.prefix, self.pending = prefix, ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in filter(None, lines):
            log.info("%s: %s", self.prefix, line)
        return len(text)


def load_coco(path: str | Path) -> COCO:
    """Load an instances_*.json file with pycocotools, its progress lines going to the log
    (the job's log) as they are printed rather than to the terminal."""
    with redirect_stdout(_LogLines(f"pycocotools {Path(path).name}")):
        return COCO(str(path))


def category_ids(coco: COCO, names: Sequence[str], source: str) -> dict[str, int]:
    """Map category names to COCO ids, in the order given."""
    by_name = {c["name"]: c["id"] for c in coco.loadCats(coco.getCatIds())}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise SubsetError(
            f"coco.categories: {missing} not found in {source}; known categories: {sorted(by_name)}"
        )
    return {n: by_name[n] for n in names}


def exclusive_images(coco: COCO, cat_ids: Mapping[str, int]) -> dict[str, list[int]]:
    """Per category, the ids of images that contain it and none of the other categories."""
    members = {name: set(coco.getImgIds(catIds=[cid])) for name, cid in cat_ids.items()}
    result = {}
    for name, ids in members.items():
        others = set().union(*(m for n, m in members.items() if n != name))
        result[name] = sorted(ids - others)
    return result


def draw_order(seed: int, annotation_set: str, image_id: int) -> str:
    """A seeded, platform- and version-independent random key for drawing images."""
    return hashlib.sha256(f"{seed}:{annotation_set}:{image_id}".encode()).hexdigest()


def select_subset(
    cocos: Mapping[str, COCO], categories: Sequence[str], n_train: int, n_val: int, seed: int
) -> pd.DataFrame:
    """Draw n_train + n_val images per category from the exclusive images of all sets.

    Images are ordered by a seeded hash and the first n_train become train, the next n_val
    val: the same on every machine, and a larger request extends a smaller one.
    """
    rows = []
    for set_name, coco in cocos.items():
        cat_ids = category_ids(coco, categories, f"instances_{set_name}.json")
        for name, ids in exclusive_images(coco, cat_ids).items():
            for img in coco.loadImgs(ids):
                rows.append(
                    {
                        "image_id": img["id"],
                        "file_name": img["file_name"],
                        "annotation_set": set_name,
                        "category": name,
                        "label": categories.index(name),
                        "coco_url": img["coco_url"],
                        "width": img["width"],
                        "height": img["height"],
                        "key": draw_order(seed, set_name, img["id"]),
                    }
                )
    pool = pd.DataFrame(rows, columns=[*MANIFEST_COLUMNS[:5], *MANIFEST_COLUMNS[6:], "key"])
    wanted = n_train + n_val
    chosen = []
    for label, name in enumerate(categories):
        eligible = pool[pool["label"] == label].sort_values("key")
        if len(eligible) < wanted:
            raise SubsetError(
                f"coco.per_class: category {name!r} has only {len(eligible)} eligible images "
                f"(containing it and none of the other {len(categories) - 1} categories, in "
                f"{' + '.join(cocos)}), but {wanted} were requested (train {n_train} + val "
                f"{n_val}); lower coco.per_class.train/val or add sets to coco.annotation_sets"
            )
        picked = eligible.head(wanted).copy()
        picked["split"] = ["train"] * n_train + ["val"] * n_val
        chosen.append(picked)
    subset = pd.concat(chosen, ignore_index=True)
    return subset[MANIFEST_COLUMNS]


def reference_json(manifest: pd.DataFrame, categories: Sequence[str]) -> dict:
    """The reference's dataset description: {"train": [{"img", "label"}], "val": [...], ...}."""
    out: dict = {"categories": list(categories)}
    for split in ("train", "val"):
        part = manifest[manifest["split"] == split]
        out[split] = [
            {"img": f"{s}/{f}", "label": int(label)}
            for s, f, label in zip(
                part["annotation_set"], part["file_name"], part["label"], strict=True
            )
        ]
    return out
