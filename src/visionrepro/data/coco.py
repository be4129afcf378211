"""COCO 2017 as a data source: obtain the annotations (download, mirror or local copy) and the
subset's images (fetched, checked and cached at 64x64), and pack the cached images per split.

The subset itself is drawn in coco_subset, its masks in coco_masks.
"""

import io
import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from visionrepro.data.datasets import ArrayDataset
from visionrepro.errors import UserError
from visionrepro.fileio import atomic_path
from visionrepro.data.transport.archives import check_archive, extract_members
from visionrepro.data.transport.fetch import (
    DEMO_HINT,
    ChecksumError,
    ContentError,
    DownloadError,
    fetch_file,
    fetch_parsed,
)
from visionrepro.data.transport.urls import OutsideMirror, check_local_inside, rewrite_url

log = logging.getLogger(__name__)

OFFLINE_HINT = (
    "Point the workflow at data it can reach: set coco.annotations_url and coco.images_url to a "
    "mirror, or coco.local_dir to a local COCO 2017 copy (with annotations/ and train2017/, "
    f"val2017/), {DEMO_HINT}"
)
REFETCH_HINT = (
    "fetch it again: rerun your snakemake command with -R coco_images added (it fetches every "
    "missing or unreadable image and keeps the others)"
)


class CacheError(UserError, ValueError):
    """A cached image that cannot be read; the message names it and how to fetch it again."""


def obtain_annotations(
    outputs: Sequence[Path],
    *,
    url: str,
    md5: str,
    archive: Path,
    local_dir: str = "",
    **options: Any,
) -> None:
    """Put the instances_*.json files named by `outputs` in place.

    From `local_dir` (linked, or extracted from its archive) when set, else downloaded (with
    fetch_file's `options`: retries, timeout, backoff, min_rate). A download without an MD5 is
    used only once the archive opens and its needed members read through.
    """
    members = [f"annotations/{p.name}" for p in outputs]
    if local_dir:
        archive = _local_annotations(outputs, Path(local_dir) / "annotations", archive.name)
        if archive is None:
            return
    else:
        try:
            fetch_file(url, archive, md5=md5, verify=lambda p: check_archive(p, members), **options)
        except ChecksumError as err:
            # The mirror was reached: the question is the MD5, not where to download from.
            raise ChecksumError(
                f"{err}.\nIf {url} is the archive you mean to use (a repacked mirror), set "
                f"coco.annotations_md5 to {err.actual!r} (or to '' to check only that the archive "
                "is whole); if not, fix coco.annotations_url",
                err.kept,
                err.actual,
            ) from err
        except DownloadError as err:
            raise DownloadError(f"{err}\n{OFFLINE_HINT}") from err
    for path in extract_members(archive, members, outputs[0].parent):
        log.info("extracted %s", path)


def _local_annotations(outputs: Sequence[Path], local: Path, archive_name: str) -> Path | None:
    """Link the outputs to a local copy's json files (None), or return its archive."""
    if all((local / p.name).is_file() for p in outputs):
        for p in outputs:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.unlink(missing_ok=True)
            p.symlink_to((local / p.name).resolve())
            log.info("using %s from the local copy %s", p.name, local)
        return None
    archive = local / archive_name
    if not archive.is_file():
        raise UserError(
            f"coco.local_dir: {local} has neither {[p.name for p in outputs]} nor "
            f"{archive.name}; point coco.local_dir at a COCO 2017 copy"
        )
    log.info("extracting from the local archive %s", archive)
    return archive


def cached_image_path(cache_dir: Path, annotation_set: str, file_name: str) -> Path:
    """Where the resized copy of an image lives."""
    return cache_dir / annotation_set / f"{Path(file_name).stem}.png"


def decode_image(data: bytes, width: int, height: int) -> Image.Image:
    """Decode a JPEG as RGB (grey and CMYK converted, EXIF orientation NOT applied).

    The size is checked against the annotation's before the pixels are decoded. An image
    too large to decode safely raises PIL's DecompressionBombError.
    """
    with Image.open(io.BytesIO(data)) as img:
        if img.size != (width, height):
            raise ValueError(
                f"image is {img.size[0]}x{img.size[1]}, annotations say {width}x{height}"
            )
        img.load()
        return img.convert("RGB")


def small_image(data: bytes, width: int, height: int, size: int) -> Image.Image:
    """The image of `data`, checked and decoded once, resized to size x size."""
    return resize_area(decode_image(data, width, height), size)


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


def fetch_one(row: Mapping, images_url: str, cache_dir: Path, size: int, **options: Any) -> bool:
    """Fetch, check, convert and resize one image unless a good copy is cached; True if fetched.

    `options` are fetch_parsed's: retries, timeout, backoff, min_rate.
    """
    dest = cached_image_path(cache_dir, row["annotation_set"], row["file_name"])
    if is_readable(dest, size):
        return False
    url = rewrite_url(row["coco_url"], images_url)
    check_local_inside(url, images_url)
    width, height = int(row["width"]), int(row["height"])
    try:
        small = fetch_parsed(url, lambda b: small_image(b, width, height, size), **options)
    except Image.DecompressionBombError as err:
        raise ContentError(
            f"{url}: image {row['annotation_set']}/{row['file_name']} refused as a "
            f"decompression bomb ({err}); remove image {row['image_id']} from the mirror or "
            "check coco.images_url"
        ) from err
    with atomic_path(dest) as tmp:
        small.save(tmp, format="PNG")
    return True


def obtain_images(
    manifest: pd.DataFrame,
    images_url: str,
    cache_dir: Path,
    *,
    size: int,
    workers: int = 16,
    **options: Any,
) -> int:
    """Fetch every manifest image not yet cached, concurrently; return how many were fetched.

    Stops at the first image that fails for good, so that an unreachable server is reported
    quickly instead of once per image. `options` are fetch_parsed's.
    """
    rows = manifest.to_dict("records")
    for row in rows:  # before any download: every image's URL stays inside the mirror
        try:
            check_local_inside(rewrite_url(row["coco_url"], images_url), images_url)
        except OutsideMirror as err:
            raise OutsideMirror(
                f"image {row['annotation_set']}/{row['file_name']}: coco_url {err}; its "
                "annotations are not COCO's own, or were altered"
            ) from None
    total, done, fetched = len(rows), 0, 0
    started, last_report = time.monotonic(), 0.0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = {
            pool.submit(fetch_one, row, images_url, cache_dir, size, **options) for row in rows
        }
        while pending:
            finished, pending = wait(pending, timeout=2.0, return_when=FIRST_EXCEPTION)
            for future in finished:
                try:
                    fetched += future.result()
                except Exception as err:
                    pool.shutdown(cancel_futures=True)  # stop at the first image that failed
                    if isinstance(err, DownloadError) and not isinstance(err, ContentError):
                        raise DownloadError(f"{err}\n{OFFLINE_HINT}") from err
                    raise
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


def pack(
    manifest: pd.DataFrame, cache_dir: Path, split: str, size: int, categories: Sequence[str]
) -> ArrayDataset:
    """Stack the cached images of one split into an ArrayDataset (uint8, N x 3 x size x size)."""
    part = manifest[manifest["split"] == split]
    images = np.empty((len(part), 3, size, size), dtype=np.uint8)
    for i, (set_name, file_name) in enumerate(
        zip(part["annotation_set"], part["file_name"], strict=True)
    ):
        images[i] = _read_cached(cached_image_path(cache_dir, set_name, file_name), size)
    return ArrayDataset(
        images=images,
        labels=part["label"].to_numpy(np.int64),
        ids=part["image_id"].to_numpy(np.int64),
        classes=tuple(categories),
    )


def _read_cached(path: Path, size: int) -> np.ndarray:
    """A cached image as uint8 3 x size x size; CacheError naming it if it cannot be read."""
    try:
        with Image.open(path) as img:
            array = np.asarray(img.convert("RGB")).transpose(2, 0, 1)
    except (OSError, ValueError) as err:
        raise CacheError(f"{path}: cached image cannot be read ({err}); {REFETCH_HINT}") from err
    if array.shape != (3, size, size):
        raise CacheError(
            f"{path}: cached image is {array.shape[2]}x{array.shape[1]}, expected "
            f"{size}x{size}; {REFETCH_HINT}"
        )
    return array
