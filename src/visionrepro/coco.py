"""COCO 2017: the exclusive-category subset, fetching and resizing its images, packing them,
and the subset's semantic masks."""

import hashlib
import io
import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from pycocotools.coco import COCO

from visionrepro.datasets import ArrayDataset
from visionrepro.download import (
    DownloadError,
    extract_members,
    fetch_bytes,
    fetch_file,
    rewrite_url,
)
from visionrepro.errors import UserError
from visionrepro.fileio import atomic_path

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

OFFLINE_HINT = (
    "Point the workflow at data it can reach: set coco.annotations_url and coco.images_url to a "
    "mirror, or coco.local_dir to a local COCO 2017 copy (with annotations/ and train2017/, "
    "val2017/), or run the offline demo: snakemake --cores all --configfile configs/demo.yaml"
)


class SubsetError(UserError, ValueError):
    """The requested subset cannot be drawn from the annotations."""


def obtain_annotations(
    outputs: Sequence[Path],
    *,
    url: str,
    md5: str,
    archive: Path,
    local_dir: str = "",
    retries: int = 4,
    timeout: float = 15.0,
    backoff: float = 1.0,
) -> None:
    """Put the instances_*.json files named by `outputs` in place.

    From `local_dir` (linked, or extracted from its archive) when set, else downloaded.
    """
    members = [f"annotations/{p.name}" for p in outputs]
    if local_dir:
        local = Path(local_dir) / "annotations"
        if all((local / p.name).is_file() for p in outputs):
            for p in outputs:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.unlink(missing_ok=True)
                p.symlink_to((local / p.name).resolve())
                log.info("using %s from the local copy %s", p.name, local)
            return
        archive = local / archive.name
        if not archive.is_file():
            raise UserError(
                f"coco.local_dir: {local} has neither {[p.name for p in outputs]} nor "
                f"{archive.name}; point coco.local_dir at a COCO 2017 copy"
            )
        log.info("extracting from the local archive %s", archive)
    else:
        try:
            fetch_file(url, archive, md5=md5, retries=retries, timeout=timeout, backoff=backoff)
        except DownloadError as err:
            raise DownloadError(f"{err}\n{OFFLINE_HINT}") from err
    for path in extract_members(archive, members, outputs[0].parent):
        log.info("extracted %s", path)


def load_coco(path: str | Path) -> COCO:
    """Load an instances_*.json file with pycocotools."""
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


def cached_image_path(cache_dir: Path, annotation_set: str, file_name: str) -> Path:
    """Where the resized copy of an image lives."""
    return cache_dir / annotation_set / f"{Path(file_name).stem}.png"


def decode_image(data: bytes, width: int, height: int) -> Image.Image:
    """Decode a JPEG as RGB (grey and CMYK converted, EXIF orientation NOT applied)."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        if img.size != (width, height):
            raise ValueError(
                f"image is {img.size[0]}x{img.size[1]}, annotations say {width}x{height}"
            )
        return img.convert("RGB")


def resize_area(img: Image.Image, size: int) -> Image.Image:
    """Resize to size x size with area averaging (PIL's BOX filter, like OpenCV's INTER_AREA)."""
    return img.resize((size, size), Image.Resampling.BOX)


def is_readable(path: Path, size: int) -> bool:
    """A cached image that decodes completely at the expected size."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.size == (size, size) and img.mode == "RGB"
    except (OSError, ValueError):
        return False


def fetch_one(
    row: Mapping,
    images_url: str,
    cache_dir: Path,
    size: int,
    retries: int,
    timeout: float,
    backoff: float,
) -> bool:
    """Fetch, check, convert and resize one image unless a good copy is cached; True if fetched."""
    dest = cached_image_path(cache_dir, row["annotation_set"], row["file_name"])
    if is_readable(dest, size):
        return False
    url = rewrite_url(row["coco_url"], images_url)
    width, height = int(row["width"]), int(row["height"])
    data = fetch_bytes(
        url,
        retries=retries,
        timeout=timeout,
        backoff=backoff,
        validate=lambda b: decode_image(b, width, height),
    )
    small = resize_area(decode_image(data, width, height), size)
    with atomic_path(dest) as tmp:
        small.save(tmp, format="PNG")
    return True


def fetch_images(
    manifest: pd.DataFrame,
    images_url: str,
    cache_dir: Path,
    *,
    size: int,
    workers: int = 16,
    retries: int = 4,
    timeout: float = 15.0,
    backoff: float = 1.0,
) -> int:
    """Fetch every manifest image not yet cached, concurrently; return how many were fetched.

    Stops at the first image that fails for good, so that an unreachable server is reported
    quickly instead of once per image.
    """
    rows = manifest.to_dict("records")
    total, done, fetched = len(rows), 0, 0
    started, last_report = time.monotonic(), 0.0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = {
            pool.submit(fetch_one, row, images_url, cache_dir, size, retries, timeout, backoff)
            for row in rows
        }
        while pending:
            finished, pending = wait(pending, timeout=2.0, return_when=FIRST_EXCEPTION)
            for future in finished:
                try:
                    fetched += future.result()
                except DownloadError as err:
                    for other in pending:
                        other.cancel()
                    raise DownloadError(f"{err}\n{OFFLINE_HINT}") from err
                done += 1
            now = time.monotonic()
            if now - last_report >= 2.0 or not pending:
                last_report = now
                log.info(
                    "images: %d/%d ready (%d fetched, %d cached, %.1f images/s)",
                    done,
                    total,
                    fetched,
                    done - fetched,
                    fetched / max(now - started, 1e-9),
                )
    return fetched


def pack_split(
    manifest: pd.DataFrame, cache_dir: Path, split: str, size: int, categories: Sequence[str]
) -> ArrayDataset:
    """Stack the cached images of one split into an ArrayDataset (uint8, N x 3 x size x size)."""
    part = manifest[manifest["split"] == split]
    images = np.empty((len(part), 3, size, size), dtype=np.uint8)
    for i, (set_name, file_name) in enumerate(
        zip(part["annotation_set"], part["file_name"], strict=True)
    ):
        path = cached_image_path(cache_dir, set_name, file_name)
        with Image.open(path) as img:
            images[i] = np.asarray(img.convert("RGB")).transpose(2, 0, 1)
    return ArrayDataset(
        images=images,
        labels=part["label"].to_numpy(np.int64),
        ids=part["image_id"].to_numpy(np.int64),
        classes=tuple(categories),
    )


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
    """The semantic masks of one split, in the order of `pack_split` (uint8, N x size x size).

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
