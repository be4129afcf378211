"""Synthetic MNIST, Fashion-MNIST and CIFAR-10 copies in the real formats, for the offline demo.

- mnist, fashion_mnist: the four gzipped IDX files (28 x 28 grey): seven-segment digits, and
  clothing silhouettes with the Fashion-MNIST classes' outlines, each randomly slanted, scaled
  and shifted.
- cifar10: an image folder `train/<class>/NNNN.jpg`, `test/<class>/NNNN.jpg` (32 x 32 JPEGs)
  with CIFAR-10's class names: per class a scene (sky/ground) and an object of its own shape;
  horses come in many coat, sky and grass colours, for the colourization experiment.
"""

import gzip
import logging
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from visionrepro.fileio import atomic_path
from visionrepro.data.torchvision_config import CIFAR10_CLASSES, SPLITS

Color = tuple[int, int, int]
Points = Sequence[tuple[float, float]]

IDX_PREFIX = {"train": "train", "test": "t10k"}
DATASET_SEEDS = {"mnist": 1, "fashion_mnist": 2, "cifar10": 3}  # independent streams per dataset
SUPERSAMPLE = 4  # shapes are drawn this many times larger, then reduced (anti-aliasing)

# Seven-segment digits: segment end points in a unit box (x right, y down).
SEGMENTS = {
    "a": ((0.2, 0.1), (0.8, 0.1)),
    "b": ((0.8, 0.1), (0.8, 0.5)),
    "c": ((0.8, 0.5), (0.8, 0.9)),
    "d": ((0.2, 0.9), (0.8, 0.9)),
    "e": ((0.2, 0.5), (0.2, 0.9)),
    "f": ((0.2, 0.1), (0.2, 0.5)),
    "g": ((0.2, 0.5), (0.8, 0.5)),
}
DIGITS = ("abcdef", "bc", "abdeg", "abcdg", "bcfg", "acdfg", "acdefg", "abc", "abcdefg", "abcdfg")

# Fashion-MNIST classes in label order (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal,
# Shirt, Sneaker, Bag, Ankle boot): filled outlines in a unit box, plus dark detail lines.
GARMENTS: tuple[tuple[tuple[Points, ...], tuple[Points, ...]], ...] = (
    (  # T-shirt/top: short sleeves
        (
            [(0.3, 0.1), (0.7, 0.1), (0.95, 0.3), (0.85, 0.42), (0.75, 0.35), (0.75, 0.9)]
            + [(0.25, 0.9), (0.25, 0.35), (0.15, 0.42), (0.05, 0.3)],
        ),
        (),
    ),
    (  # Trouser: two legs
        (
            [(0.3, 0.05), (0.7, 0.05), (0.72, 0.95), (0.55, 0.95), (0.5, 0.3), (0.45, 0.95)]
            + [(0.28, 0.95)],
        ),
        (),
    ),
    (  # Pullover: long sleeves down to the hem
        (
            [(0.3, 0.1), (0.7, 0.1), (0.92, 0.25), (0.98, 0.88), (0.84, 0.88), (0.78, 0.4)]
            + [(0.76, 0.9), (0.24, 0.9), (0.22, 0.4), (0.16, 0.88), (0.02, 0.88), (0.08, 0.25)],
        ),
        (),
    ),
    (  # Dress: narrow top, flared skirt
        ([(0.38, 0.05), (0.62, 0.05), (0.6, 0.4), (0.85, 0.95), (0.15, 0.95), (0.4, 0.4)],),
        (),
    ),
    (  # Coat: long sleeves, long body, dark front opening
        (
            [(0.3, 0.05), (0.7, 0.05), (0.92, 0.2), (0.98, 0.9), (0.84, 0.9), (0.8, 0.4)]
            + [(0.8, 0.97), (0.2, 0.97), (0.2, 0.4), (0.16, 0.9), (0.02, 0.9), (0.08, 0.2)],
        ),
        ([(0.5, 0.1), (0.5, 0.97)],),
    ),
    (  # Sandal: sole and three straps
        (
            [(0.05, 0.75), (0.95, 0.72), (0.95, 0.82), (0.05, 0.85)],
            [(0.15, 0.72), (0.25, 0.45), (0.32, 0.45), (0.25, 0.74)],
            [(0.45, 0.72), (0.5, 0.4), (0.57, 0.4), (0.53, 0.72)],
            [(0.72, 0.72), (0.8, 0.5), (0.87, 0.5), (0.8, 0.72)],
        ),
        (),
    ),
    (  # Shirt: T-shirt outline with long body, collar and a button line
        (
            [(0.3, 0.08), (0.7, 0.08), (0.95, 0.3), (0.88, 0.6), (0.76, 0.35), (0.76, 0.95)]
            + [(0.24, 0.95), (0.24, 0.35), (0.12, 0.6), (0.05, 0.3)],
        ),
        ([(0.38, 0.08), (0.5, 0.25), (0.62, 0.08)], [(0.5, 0.25), (0.5, 0.95)]),
    ),
    (  # Sneaker: low shoe
        ([(0.05, 0.55), (0.4, 0.5), (0.6, 0.62), (0.95, 0.7), (0.95, 0.85), (0.05, 0.85)],),
        ([(0.05, 0.78), (0.95, 0.78)],),
    ),
    (  # Bag: box with a handle
        (
            [(0.1, 0.4), (0.9, 0.4), (0.9, 0.92), (0.1, 0.92)],
            [(0.3, 0.4), (0.35, 0.12), (0.65, 0.12), (0.7, 0.4), (0.6, 0.4), (0.58, 0.22)]
            + [(0.42, 0.22), (0.4, 0.4)],
        ),
        (),
    ),
    (  # Ankle boot: high shaft
        (
            [(0.3, 0.1), (0.62, 0.1), (0.62, 0.55), (0.95, 0.7), (0.95, 0.9), (0.1, 0.9)]
            + [(0.1, 0.65), (0.3, 0.55)],
        ),
        ([(0.1, 0.82), (0.95, 0.82)],),
    ),
)

SKY = ((110, 170, 230), (150, 200, 245), (70, 120, 200), (235, 150, 90), (200, 120, 170))
GRASS = ((60, 140, 50), (110, 170, 60), (150, 150, 60), (40, 100, 40), (170, 140, 80))
ROAD = ((90, 90, 95), (130, 125, 120), (60, 60, 65))
WATER = ((30, 70, 140), (40, 110, 150), (20, 50, 100))
INDOOR = ((200, 180, 150), (170, 140, 110), (220, 210, 190))
FOREST = ((50, 90, 40), (80, 70, 40), (40, 70, 50))
POND = ((30, 80, 60), (60, 90, 50), (20, 60, 70))
VIVID = ((200, 30, 30), (30, 60, 200), (230, 200, 40), (240, 240, 240), (30, 30, 30))
COATS = (
    (150, 75, 30),  # chestnut
    (100, 55, 30),  # bay
    (30, 25, 25),  # black
    (235, 235, 228),  # white
    (150, 150, 150),  # grey
    (220, 180, 100),  # palomino
    (190, 160, 110),  # dun
    (120, 40, 30),  # liver chestnut
)


@dataclass(frozen=True)
class Part:
    """A piece of an object: kind (poly, ellipse, line), points in its unit box, colour name."""

    kind: str
    points: Points
    color: str
    width: float = 0.06


@dataclass(frozen=True)
class Scene:
    """One CIFAR class: background colours above/below the horizon, the object and its colours."""

    sky: tuple[Color, ...]
    ground: tuple[Color, ...]
    horizon: float
    parts: tuple[Part, ...]
    colors: Mapping[str, tuple[Color, ...]] = field(default_factory=dict)


def _poly(color: str, *points: tuple[float, float]) -> Part:
    return Part("poly", points, color)


def _ellipse(color: str, x0: float, y0: float, x1: float, y1: float) -> Part:
    return Part("ellipse", ((x0, y0), (x1, y1)), color)


def _line(color: str, width: float, *points: tuple[float, float]) -> Part:
    return Part("line", points, color, width)


WHEELS = (_ellipse("wheel", 0.12, 0.7, 0.34, 0.95), _ellipse("wheel", 0.66, 0.7, 0.88, 0.95))
SCENES: dict[str, Scene] = {
    "airplane": Scene(
        SKY,
        SKY,
        1.0,
        (
            _poly("body", (0.0, 0.45), (0.85, 0.42), (1.0, 0.5), (0.85, 0.58), (0.0, 0.55)),
            _poly("body", (0.35, 0.5), (0.6, 0.5), (0.4, 0.95), (0.3, 0.95)),
            _poly("body", (0.35, 0.5), (0.6, 0.5), (0.4, 0.05), (0.3, 0.05)),
            _poly("body", (0.0, 0.5), (0.12, 0.5), (0.05, 0.25), (0.0, 0.25)),
        ),
        {"body": ((230, 230, 235), (180, 180, 190), (200, 60, 60))},
    ),
    "automobile": Scene(
        INDOOR + SKY[:2],
        ROAD,
        0.75,
        (
            _poly("body", (0.0, 0.5), (0.25, 0.45), (0.35, 0.25), (0.7, 0.25), (0.8, 0.45)),
            _poly("body", (0.0, 0.5), (1.0, 0.45), (1.0, 0.82), (0.0, 0.82)),
            _poly("glass", (0.38, 0.3), (0.66, 0.3), (0.74, 0.45), (0.3, 0.45)),
            *WHEELS,
        ),
        {"body": VIVID, "glass": ((150, 200, 230),), "wheel": ((20, 20, 20),)},
    ),
    "bird": Scene(
        SKY,
        GRASS,
        0.85,
        (
            _ellipse("body", 0.2, 0.35, 0.75, 0.7),
            _ellipse("body", 0.6, 0.2, 0.85, 0.45),
            _poly("beak", (0.83, 0.3), (1.0, 0.35), (0.83, 0.4)),
            _poly("body", (0.25, 0.5), (0.0, 0.4), (0.05, 0.6)),
            _line("beak", 0.04, (0.45, 0.7), (0.45, 0.9)),
        ),
        {
            "body": ((120, 80, 40), (230, 200, 50), (200, 60, 40), (60, 60, 160)),
            "beak": ((240, 160, 30),),
        },
    ),
    "cat": Scene(
        INDOOR,
        INDOOR,
        1.0,
        (
            _ellipse("fur", 0.15, 0.25, 0.85, 0.95),
            _poly("fur", (0.18, 0.45), (0.22, 0.05), (0.45, 0.3)),
            _poly("fur", (0.82, 0.45), (0.78, 0.05), (0.55, 0.3)),
            _ellipse("eye", 0.3, 0.45, 0.42, 0.57),
            _ellipse("eye", 0.58, 0.45, 0.7, 0.57),
        ),
        {"fur": ((230, 140, 50), (120, 120, 120), (40, 40, 40)), "eye": ((120, 220, 60),)},
    ),
    "deer": Scene(
        FOREST,
        FOREST,
        0.8,
        (
            _ellipse("fur", 0.15, 0.4, 0.8, 0.7),
            _line("fur", 0.07, (0.25, 0.6), (0.22, 0.98)),
            _line("fur", 0.07, (0.7, 0.6), (0.72, 0.98)),
            _line("fur", 0.09, (0.7, 0.5), (0.85, 0.25)),
            _ellipse("fur", 0.78, 0.15, 0.98, 0.32),
            _line("antler", 0.03, (0.85, 0.17), (0.75, 0.0), (0.68, 0.05)),
            _line("antler", 0.03, (0.92, 0.17), (1.0, 0.0)),
        ),
        {"fur": ((160, 100, 50), (130, 85, 45)), "antler": ((230, 220, 200),)},
    ),
    "dog": Scene(
        GRASS[:2] + INDOOR,
        GRASS,
        0.7,
        (
            _ellipse("fur", 0.1, 0.15, 0.9, 0.95),
            _poly("ear", (0.1, 0.25), (0.3, 0.15), (0.25, 0.65), (0.05, 0.6)),
            _poly("ear", (0.9, 0.25), (0.7, 0.15), (0.75, 0.65), (0.95, 0.6)),
            _ellipse("nose", 0.42, 0.6, 0.58, 0.72),
        ),
        {
            "fur": ((200, 160, 100), (90, 60, 30), (240, 230, 210)),
            "ear": ((70, 40, 20), (30, 30, 30)),
            "nose": ((15, 15, 15),),
        },
    ),
    "frog": Scene(
        POND,
        POND,
        1.0,
        (
            _ellipse("skin", 0.1, 0.35, 0.9, 0.85),
            _ellipse("skin", 0.2, 0.2, 0.4, 0.45),
            _ellipse("skin", 0.6, 0.2, 0.8, 0.45),
            _ellipse("eye", 0.25, 0.25, 0.35, 0.37),
            _ellipse("eye", 0.65, 0.25, 0.75, 0.37),
        ),
        {"skin": ((90, 200, 60), (140, 220, 40), (60, 170, 90)), "eye": ((10, 10, 10),)},
    ),
    "horse": Scene(
        SKY,
        GRASS,
        0.65,
        (
            _ellipse("coat", 0.15, 0.35, 0.75, 0.65),
            _line("coat", 0.07, (0.22, 0.55), (0.2, 0.98)),
            _line("coat", 0.07, (0.32, 0.55), (0.34, 0.98)),
            _line("coat", 0.07, (0.6, 0.55), (0.58, 0.98)),
            _line("coat", 0.07, (0.68, 0.55), (0.72, 0.98)),
            _poly("coat", (0.62, 0.45), (0.75, 0.12), (0.85, 0.15), (0.76, 0.5)),
            _poly("coat", (0.72, 0.1), (0.98, 0.25), (0.95, 0.33), (0.75, 0.25)),
            _line("mane", 0.05, (0.62, 0.4), (0.72, 0.1)),
            _line("mane", 0.04, (0.16, 0.42), (0.05, 0.7)),
        ),
        {"coat": COATS, "mane": ((20, 15, 10), (240, 230, 200), (90, 50, 20))},
    ),
    "ship": Scene(
        SKY,
        WATER,
        0.6,
        (
            _poly("hull", (0.0, 0.55), (1.0, 0.55), (0.88, 0.8), (0.1, 0.8)),
            _poly("cabin", (0.25, 0.3), (0.7, 0.3), (0.7, 0.55), (0.25, 0.55)),
            _poly("hull", (0.45, 0.1), (0.55, 0.1), (0.55, 0.3), (0.45, 0.3)),
        ),
        {"hull": ((30, 30, 40), (150, 30, 30), (40, 40, 110)), "cabin": ((240, 240, 240),)},
    ),
    "truck": Scene(
        SKY,
        ROAD,
        0.75,
        (
            _poly("box", (0.0, 0.15), (0.65, 0.15), (0.65, 0.8), (0.0, 0.8)),
            _poly("cab", (0.66, 0.35), (0.88, 0.35), (1.0, 0.55), (1.0, 0.8), (0.66, 0.8)),
            _poly("glass", (0.72, 0.4), (0.86, 0.4), (0.94, 0.55), (0.72, 0.55)),
            *WHEELS,
        ),
        {
            "box": ((240, 240, 240), (200, 200, 40), (40, 120, 60)),
            "cab": VIVID,
            "glass": ((150, 200, 230),),
            "wheel": ((20, 20, 20),),
        },
    ),
}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x0000 0x08 ndim, big-endian int32 sizes, data."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx_files(
    folder: Path, splits: Mapping[str, tuple[np.ndarray, np.ndarray]], *, gzipped: bool = True
) -> list[Path]:
    """Write (images N x 28 x 28, labels N) per split as the four IDX files; return their paths."""
    paths = []
    for split, (images, labels) in splits.items():
        prefix = IDX_PREFIX[split]
        for name, array in (
            (f"{prefix}-images-idx3-ubyte", images),
            (f"{prefix}-labels-idx1-ubyte", labels),
        ):
            data = idx_bytes(array)
            if gzipped:
                name, data = f"{name}.gz", gzip.compress(data, mtime=0)
            path = Path(folder) / name
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
            paths.append(path)
    return paths


def _affine(rng: np.random.Generator, jitter: float) -> np.ndarray:
    """A random 2 x 3 map of the unit box: scale, slant, rotation and shift around the centre."""
    scale = rng.uniform(1 - jitter, 1 + jitter / 2, size=2)
    slant = rng.uniform(-jitter, jitter)
    angle = rng.uniform(-jitter, jitter)
    c, s = np.cos(angle), np.sin(angle)
    linear = np.array([[c, -s], [s, c]]) @ np.array([[1, slant], [0, 1]]) @ np.diag(scale)
    shift = 0.5 + rng.uniform(-jitter, jitter, size=2) / 2 - linear @ np.array([0.5, 0.5])
    return np.column_stack([linear, shift])


def _map(points: Points, affine: np.ndarray, size: float) -> list[tuple[float, float]]:
    """Points of the unit box through affine, in pixels of a size x size canvas."""
    xy = np.asarray(points, dtype=float) @ affine[:, :2].T + affine[:, 2]
    return [(float(x) * size, float(y) * size) for x, y in xy]


def _reduce(canvas: Image.Image, size: int) -> Image.Image:
    """Shrink a supersampled canvas to size x size (area average)."""
    return canvas.resize((size, size), Image.Resampling.BOX)


def digit_image(rng: np.random.Generator, digit: int, size: int = 28) -> np.ndarray:
    """A seven-segment digit, white on black, randomly slanted and of random stroke width."""
    big = size * SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    affine = _affine(rng, 0.2)
    width = int(big * rng.uniform(0.07, 0.12))
    for segment in DIGITS[digit]:
        (x0, y0), (x1, y1) = _map(SEGMENTS[segment], affine, big)
        draw.line([(x0, y0), (x1, y1)], fill=255, width=width)
        for x, y in ((x0, y0), (x1, y1)):  # round joints
            draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    return np.asarray(_reduce(canvas, size))


def garment_image(rng: np.random.Generator, label: int, size: int = 28) -> np.ndarray:
    """A Fashion-MNIST-like silhouette: textured grey fill on black, dark detail lines."""
    big = size * SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    affine = _affine(rng, 0.12)
    shapes, details = GARMENTS[label]
    for shape in shapes:
        draw.polygon(_map(shape, affine, big), fill=int(rng.integers(140, 256)))
    for detail in details:
        draw.line(_map(detail, affine, big), fill=int(rng.integers(20, 80)), width=big // 20)
    image = np.asarray(_reduce(canvas, size), dtype=float)
    texture = rng.normal(1.0, 0.08, size=image.shape)
    return np.clip(image * texture, 0, 255).astype(np.uint8)


def _balanced_labels(rng: np.random.Generator, count: int, classes: int = 10) -> np.ndarray:
    """count labels, as equal per class as possible, in random order."""
    return rng.permutation(np.arange(count) % classes).astype(np.uint8)


def make_idx_source(
    folder: Path, dataset: str, counts: Mapping[str, int], *, seed: int = 0
) -> list[Path]:
    """Write a synthetic mnist or fashion_mnist as four gzipped IDX files in folder."""
    draw = {"mnist": digit_image, "fashion_mnist": garment_image}[dataset]
    rng = np.random.default_rng([seed, DATASET_SEEDS[dataset]])
    splits = {}
    for split in SPLITS:
        labels = _balanced_labels(rng, counts[split])
        images = np.zeros((len(labels), 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i] = draw(rng, int(label))
        splits[split] = (images, labels)
    return write_idx_files(folder, splits)


def _pick(rng: np.random.Generator, options: Sequence[Color], spread: int = 25) -> Color:
    """One of the colours, randomly shifted per channel."""
    base = np.array(options[int(rng.integers(len(options)))])
    r, g, b = np.clip(base + rng.integers(-spread, spread + 1, size=3), 0, 255)
    return int(r), int(g), int(b)


def scene_image(rng: np.random.Generator, name: str, size: int = 32) -> Image.Image:
    """A CIFAR-like 32 x 32 RGB picture of class `name`."""
    scene = SCENES[name]
    big = size * SUPERSAMPLE
    canvas = Image.new("RGB", (big, big), _pick(rng, scene.sky))
    draw = ImageDraw.Draw(canvas)
    horizon = min(scene.horizon + rng.uniform(-0.08, 0.08), 1.0) * big
    draw.rectangle([0, horizon, big, big], fill=_pick(rng, scene.ground))
    colors = {key: _pick(rng, options) for key, options in scene.colors.items()}
    affine = _affine(rng, 0.1)
    flip = rng.random() < 0.5  # facing left or right
    for part in scene.parts:
        points = [(1 - x, y) for x, y in part.points] if flip else part.points
        points = _map(points, affine, big)
        fill = colors[part.color]
        if part.kind == "poly":
            draw.polygon(points, fill=fill)
        elif part.kind == "ellipse":
            (x0, y0), (x1, y1) = points
            draw.ellipse([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], fill=fill)
        else:
            draw.line(points, fill=fill, width=max(1, int(part.width * big)))
    pixels = np.asarray(_reduce(canvas, size), dtype=float)
    pixels += rng.normal(0.0, 6.0, size=pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make_cifar10_source(
    folder: Path, per_class: Mapping[str, int], *, seed: int = 0, quality: int = 90
) -> int:
    """Write a synthetic CIFAR-10 image folder (split/class/NNNN.jpg); return the image count."""
    rng = np.random.default_rng([seed, DATASET_SEEDS["cifar10"]])
    written = 0
    for split in SPLITS:
        for name in CIFAR10_CLASSES:
            (Path(folder) / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(per_class[split]):
                path = Path(folder) / split / name / f"{i:04d}.jpg"
                with atomic_path(path) as tmp:
                    scene_image(rng, name).save(tmp, format="JPEG", quality=quality)
                written += 1
    return written


def make_demo_source(
    folder: Path,
    dataset: str,
    *,
    idx_images: Mapping[str, int],
    cifar10_per_class: Mapping[str, int],
    seed: int = 0,
    log: logging.Logger | None = None,
) -> None:
    """Write the demo's synthetic copy of a dataset into folder (the real format)."""
    log = log or logging.getLogger(__name__)
    if dataset == "cifar10":
        count = make_cifar10_source(folder, cifar10_per_class, seed=seed)
        log.info("cifar10: %d JPEGs in %s (per class %s)", count, folder, dict(cifar10_per_class))
    else:
        paths = make_idx_source(folder, dataset, idx_images, seed=seed)
        log.info("%s: %s in %s (%s)", dataset, [p.name for p in paths], folder, dict(idx_images))
