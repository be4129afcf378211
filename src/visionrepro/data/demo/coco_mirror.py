"""Synthetic COCO 2017 mirror so the download and subset steps can run offline.

The layout matches the COCO image host::

    <root>/annotations/annotations_trainval2017.zip
    <root>/train2017/<file_name>
    <root>/val2017/<file_name>

Every target category gets its own shape and colour (with clearly different luminance, so
the classes stay separable in greyscale), drawn as a polygon whose coordinates are also the
annotation's segmentation.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

from visionrepro.fileio import atomic_path

DEMO_CATEGORIES = ("boat", "cake", "couch", "dog", "motorcycle")
SETS = ("train2017", "val2017")
ANNOTATIONS_ZIP = "annotations_trainval2017.zip"

# (id, name, supercategory) exactly as in the real COCO 2017 instances files.
CATEGORIES = (
    (1, "person", "person"),
    (2, "bicycle", "vehicle"),
    (4, "motorcycle", "vehicle"),
    (9, "boat", "vehicle"),
    (17, "cat", "animal"),
    (18, "dog", "animal"),
    (61, "cake", "food"),
    (62, "chair", "furniture"),
    (63, "couch", "furniture"),
)
CATEGORY_IDS = {name: cat_id for cat_id, name, _ in CATEGORIES}
DISTRACTORS = ("bicycle", "cat", "chair", "person")

# name -> (shape, RGB colour). Target luminances are about 40/90/130/175/230.
STYLES: dict[str, tuple[str, tuple[int, int, int]]] = {
    "boat": ("triangle", (20, 30, 140)),
    "couch": ("rectangle", (210, 40, 40)),
    "dog": ("ellipse", (40, 190, 60)),
    "motorcycle": ("cross", (240, 130, 230)),
    "cake": ("ring", (255, 240, 120)),
    "person": ("hexagon", (110, 80, 50)),
    "bicycle": ("diamond", (0, 150, 150)),
    "cat": ("pentagon", (150, 150, 40)),
    "chair": ("diamond", (120, 60, 160)),
}

LICENSES = (
    (
        1,
        "Attribution-NonCommercial-ShareAlike License",
        "http://creativecommons.org/licenses/by-nc-sa/2.0/",
    ),
    (2, "Attribution-NonCommercial License", "http://creativecommons.org/licenses/by-nc/2.0/"),
    (4, "Attribution License", "http://creativecommons.org/licenses/by/2.0/"),
    (7, "No known copyright restrictions", "http://flickr.com/commons/usage/"),
)
INFO = {
    "description": "visionrepro synthetic COCO 2017 demo mirror",
    "url": "http://cocodataset.org",
    "version": "1.0",
    "year": 2017,
    "contributor": "visionrepro",
    "date_created": "2017/09/01",
}

ZIP_DATE_TIME = (2017, 9, 1, 0, 0, 0)
MULTI_TARGET_IMAGES = 3  # per set: two different target categories (excluded by subset)
DISTRACTOR_ONLY_IMAGES = 3  # per set: only non-target categories (excluded by subset)
GREY_IMAGES = 2  # per set, among the exclusive target images
CMYK_IMAGES = 2  # per set, among the exclusive target images
CROWD_EVERY = 5  # about one exclusive image in CROWD_EVERY gets an iscrowd=1 region
PERSON_EVERY = 10  # about one exclusive image in PERSON_EVERY also shows a person
BACKGROUND_CONTRAST = 60  # min. luminance gap between background and object colours
IDS_PER_SET = 300_000  # image ids of set k are drawn from [1 + k * IDS_PER_SET, ...)


Box = tuple[float, float, float, float]  # x, y, width, height in pixels


@dataclass(frozen=True)
class _Plan:
    """What one image shows: target objects, non-target objects, crowd region, JPEG mode."""

    targets: tuple[str, ...]
    extras: tuple[str, ...] = ()
    crowd: bool = False
    mode: str = "RGB"


def _ngon(n: int, scale: float = 1.0) -> np.ndarray:
    """Regular n-gon inscribed in the unit box (first vertex on top), shrunk by scale."""
    angles = 2 * np.pi * np.arange(n) / n - np.pi / 2
    return 0.5 + 0.5 * scale * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _keyhole_ring(n: int, inner: float) -> np.ndarray:
    """Ring as one polygon: outer loop, seam to the reversed inner loop, seam back."""
    outer, hole = _ngon(n), _ngon(n, inner)
    return np.concatenate([outer, outer[:1], hole[:1], hole[:0:-1], hole[:1]])


def _cross(arm: float) -> np.ndarray:
    """Plus sign in the unit box with arms of relative width arm."""
    a, b = (1 - arm) / 2, (1 + arm) / 2
    corners = [a, 0, b, 0, b, a, 1, a, 1, b, b, b, b, 1, a, 1, a, b, 0, b, 0, a, a, a]
    return np.array(corners, dtype=float).reshape(-1, 2)


OUTLINES: dict[str, np.ndarray] = {
    "triangle": np.array([(0.5, 0.0), (1.0, 1.0), (0.0, 1.0)]),
    "rectangle": np.array([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]),
    "ellipse": _ngon(24),
    "cross": _cross(0.36),
    "ring": _keyhole_ring(24, 0.55),
    "hexagon": _ngon(6),
    "pentagon": _ngon(5),
    "diamond": _ngon(4),
}


def _fill_fraction(outline: np.ndarray) -> float:
    """Shoelace area of a unit-box outline, i.e. the fraction of its box it covers."""
    x, y = outline[:, 0], outline[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


def _luminance(color: Sequence[int]) -> float:
    """ITU-R 601 luma, as PIL uses when converting to 'L'."""
    r, g, b = color
    return 0.299 * r + 0.587 * g + 0.114 * b


def _check_counts(images_per_class: Mapping[str, int]) -> None:
    """Reject unknown set names and negative or non-integer counts."""
    unknown = sorted(set(images_per_class) - set(SETS))
    if unknown:
        raise ValueError(f"unknown annotation sets {unknown}; expected a subset of {SETS}")
    for name, count in images_per_class.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"images_per_class[{name!r}] must be a non-negative int: {count!r}")


def _plan_set(rng: np.random.Generator, per_class: int) -> list[_Plan]:
    """Plan exclusive target images plus distractors for one set, in shuffled order."""
    exclusive = [cat for cat in DEMO_CATEGORIES for _ in range(per_class)]
    total = len(exclusive)
    n_crowd, n_person = round(total / CROWD_EVERY), round(total / PERSON_EVERY)
    features = rng.permutation(total)
    crowd = set(features[:n_crowd].tolist())
    person = set(features[n_crowd : n_crowd + n_person].tolist())
    modes = ["L"] * GREY_IMAGES + ["CMYK"] * CMYK_IMAGES
    mode_of = dict(zip(rng.permutation(total).tolist(), modes, strict=False))
    plans = [
        _Plan((cat,), ("person",) if i in person else (), i in crowd, mode_of.get(i, "RGB"))
        for i, cat in enumerate(exclusive)
    ]
    for _ in range(MULTI_TARGET_IMAGES):
        plans.append(_Plan(tuple(rng.choice(DEMO_CATEGORIES, 2, replace=False).tolist())))
    for _ in range(DISTRACTOR_ONLY_IMAGES):
        count = int(rng.integers(1, 3))
        plans.append(_Plan((), tuple(rng.choice(DISTRACTORS, count, replace=False).tolist())))
    return [plans[i] for i in rng.permutation(len(plans))]


def _background(
    rng: np.random.Generator, size: tuple[int, int], colors: Sequence[Sequence[int]]
) -> Image.Image:
    """Noisy, slightly tinted grey background whose luminance stays clear of the objects."""
    levels = np.arange(256)
    object_levels = np.array([_luminance(c) for c in colors])
    distance = np.abs(levels[:, None] - object_levels[None, :]).min(axis=1)
    base = float(rng.choice(levels[distance >= BACKGROUND_CONTRAST]))
    tint = rng.integers(-12, 13, size=3)
    noise = rng.normal(0.0, 10.0, size=(size[1], size[0], 3))
    return Image.fromarray(np.clip(base + tint + noise, 0, 255).astype(np.uint8))


def _jitter(rng: np.random.Generator, color: Sequence[int]) -> tuple[int, int, int]:
    """Colour with a small random per-channel offset."""
    values = np.clip(np.array(color) + rng.integers(-10, 11, size=3), 0, 255)
    return int(values[0]), int(values[1]), int(values[2])


def _cells(rng: np.random.Generator, size: tuple[int, int], count: int) -> list[Box]:
    """Split the image along its longer side into count equal cells, in random order."""
    width, height = size
    if width >= height:
        cells = [(i * width / count, 0.0, width / count, float(height)) for i in range(count)]
    else:
        cells = [(0.0, i * height / count, float(width), height / count) for i in range(count)]
    return [cells[i] for i in rng.permutation(count)]


def _place(rng: np.random.Generator, cell: Box, box_fraction: float) -> Box:
    """Random box (x, y, w, h) of about box_fraction of cell, kept 2 px inside the cell."""
    x, y, width, height = cell[0] + 2, cell[1] + 2, cell[2] - 4, cell[3] - 4
    ratio = rng.uniform(0.75, 1.33)
    bw = min(np.sqrt(box_fraction * ratio), 0.95) * width
    bh = min(np.sqrt(box_fraction / ratio), 0.95) * height
    x, y = x + rng.uniform(0, width - bw), y + rng.uniform(0, height - bh)
    return float(x), float(y), float(bw), float(bh)


def _polygon(shape: str, box: Box) -> list[float]:
    """Shape outline scaled into box, as a flat [x1, y1, ...] list rounded to 2 decimals."""
    x, y, w, h = box
    points = OUTLINES[shape] * np.array([w, h]) + np.array([x, y])
    return [round(float(v), 2) for v in points.ravel()]


def _rle_fields(rle: dict) -> dict:
    """COCO area and bbox of a compressed RLE."""
    return {
        "area": float(mask_utils.area(rle)),
        "bbox": [round(float(v), 2) for v in mask_utils.toBbox(rle)],
    }


def _draw_polygon(
    draw: ImageDraw.ImageDraw,
    polygon: list[float],
    color: tuple[int, int, int],
    size: tuple[int, int],
) -> dict:
    """Fill the polygon and return its iscrowd=0 annotation fields."""
    draw.polygon(polygon, fill=color)
    rle = mask_utils.merge(mask_utils.frPyObjects([polygon], size[1], size[0]))
    return {"segmentation": [polygon], "iscrowd": 0, **_rle_fields(rle)}


def _uncompressed_rle(binary: np.ndarray) -> dict:
    """Column-major run lengths (starting with a zero run) as in COCO crowd annotations."""
    flat = binary.ravel(order="F").astype(np.int8)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts.insert(0, 0)
    return {"counts": counts, "size": list(binary.shape)}


def _draw_crowd(
    rng: np.random.Generator,
    image: Image.Image,
    box: Box,
    color: tuple[int, int, int],
) -> dict:
    """Paint a blob of overlapping discs in box and return its iscrowd=1 RLE annotation fields."""
    x, y, w, h = box
    blob = Image.new("L", image.size, 0)
    blob_draw = ImageDraw.Draw(blob)
    for _ in range(int(rng.integers(3, 6))):
        r = min(w, h) * rng.uniform(0.2, 0.35)
        cx, cy = rng.uniform(x + r, x + w - r), rng.uniform(y + r, y + h - r)
        blob_draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    image.paste(color, mask=blob)
    binary = np.asarray(blob) > 0
    segmentation = _uncompressed_rle(binary)
    rle = mask_utils.frPyObjects(segmentation, *segmentation["size"])
    if not np.array_equal(mask_utils.decode(rle).astype(bool), binary):
        raise RuntimeError("uncompressed RLE does not decode back to the drawn crowd mask")
    return {"segmentation": segmentation, "iscrowd": 1, **_rle_fields(rle)}


def _coverage(rng: np.random.Generator, alone: bool, is_target: bool) -> float:
    """Fraction of the image an object covers: large alone, smaller when sharing the image."""
    if alone:
        return rng.uniform(0.2, 0.45)
    return rng.uniform(0.15, 0.25) if is_target else rng.uniform(0.08, 0.15)


def _render(rng: np.random.Generator, plan: _Plan) -> tuple[Image.Image, list[dict]]:
    """Draw one image for plan; return it with its annotations (without ids)."""
    size = (int(rng.integers(96, 193)), int(rng.integers(80, 161)))
    names = plan.targets + plan.extras
    image = _background(rng, size, [STYLES[name][1] for name in names])
    draw = ImageDraw.Draw(image)
    cells = _cells(rng, size, len(names) + plan.crowd)
    annotations = []
    for index, name in enumerate(names):
        shape, base_color = STYLES[name]
        coverage = _coverage(rng, len(cells) == 1, index < len(plan.targets))
        fraction = coverage * len(cells) / _fill_fraction(OUTLINES[shape])
        box = _place(rng, cells[index], fraction)
        fields = _draw_polygon(draw, _polygon(shape, box), _jitter(rng, base_color), size)
        annotations.append({"category_id": CATEGORY_IDS[name], **fields})
    if plan.crowd:
        box = _place(rng, cells[-1], rng.uniform(0.06, 0.12) * len(cells))
        fields = _draw_crowd(rng, image, box, _jitter(rng, STYLES[plan.targets[0]][1]))
        annotations.append({"category_id": CATEGORY_IDS[plan.targets[0]], **fields})
    return image, annotations


def _write_atomic(path: Path, data: bytes) -> None:
    """Write data to a hidden temp file next to path, then rename it into place."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _jpeg_bytes(image: Image.Image, mode: str) -> bytes:
    """Encode image as a JPEG in the given PIL mode ('RGB', 'L' or 'CMYK')."""
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _image_record(
    rng: np.random.Generator, set_name: str, image_id: int, size: tuple[int, int]
) -> dict:
    """COCO 'images' entry with the real file_name and coco_url conventions."""
    file_name = f"{image_id:012d}.jpg"
    captured = datetime(2013, 1, 1) + timedelta(seconds=int(rng.integers(0, 365 * 86400)))
    return {
        "id": image_id,
        "file_name": file_name,
        "width": size[0],
        "height": size[1],
        "coco_url": f"http://images.cocodataset.org/{set_name}/{file_name}",
        "flickr_url": f"http://farm{image_id % 9 + 1}.staticflickr.com/demo/{image_id}_z.jpg",
        "license": int(rng.choice([lic[0] for lic in LICENSES])),
        "date_captured": captured.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _write_set(rng: np.random.Generator, root: Path, set_index: int, plans: list[_Plan]) -> dict:
    """Render and write every planned image of one set; return its COCO dataset dict."""
    set_name = SETS[set_index]
    folder = root / set_name
    folder.mkdir(parents=True, exist_ok=True)
    first_id = 1 + set_index * IDS_PER_SET
    ids = np.sort(rng.choice(np.arange(first_id, first_id + IDS_PER_SET), len(plans), False))
    images, annotations = [], []
    for image_id, plan in zip(ids.tolist(), plans, strict=True):
        image, image_annotations = _render(rng, plan)
        record = _image_record(rng, set_name, image_id, image.size)
        _write_atomic(folder / record["file_name"], _jpeg_bytes(image, plan.mode))
        images.append(record)
        for k, fields in enumerate(image_annotations):
            annotations.append({"id": image_id * 100 + k, "image_id": image_id, **fields})
    return {
        "info": INFO,
        "licenses": [{"id": i, "name": n, "url": u} for i, n, u in LICENSES],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": n, "supercategory": s} for i, n, s in CATEGORIES],
    }


def _summary(set_name: str, plans: list[_Plan]) -> str:
    """One-line description of what was written for a set."""
    exclusive = [p for p in plans if len(p.targets) == 1]
    per_class = Counter(p.targets[0] for p in exclusive)
    modes = Counter(p.mode for p in exclusive)
    return (
        f"{set_name}: {len(plans)} images; exclusive per category "
        + ", ".join(f"{cat}={per_class[cat]}" for cat in DEMO_CATEGORIES)
        + f" ({sum(p.crowd for p in exclusive)} with crowd region,"
        f" {sum(bool(p.extras) for p in exclusive)} with person,"
        f" {modes['L']} greyscale, {modes['CMYK']} CMYK);"
        f" distractors: {sum(len(p.targets) > 1 for p in plans)} multi-target,"
        f" {sum(not p.targets for p in plans)} distractor-only"
    )


def _zip_bytes(members: Mapping[str, bytes]) -> bytes:
    """Deflated zip of members with fixed timestamps and permissions (reproducible bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name])
    return buffer.getvalue()


def make_demo_mirror(
    root: Path,
    *,
    images_per_class: Mapping[str, int],
    seed: int = 0,
    log: logging.Logger | None = None,
) -> Path:
    """Write a synthetic COCO-format mirror under root; return the annotations zip path."""
    log = log or logging.getLogger(__name__)
    _check_counts(images_per_class)
    rng = np.random.default_rng(seed)
    root = Path(root)
    members = {}
    for set_index, set_name in enumerate(SETS):
        plans = _plan_set(rng, images_per_class.get(set_name, 0))
        dataset = _write_set(rng, root, set_index, plans)
        text = json.dumps(dataset, sort_keys=True, separators=(",", ":"))
        members[f"annotations/instances_{set_name}.json"] = text.encode("utf-8")
        log.info(_summary(set_name, plans))
    zip_path = root / "annotations" / ANNOTATIONS_ZIP
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(zip_path, _zip_bytes(members))
    return zip_path
