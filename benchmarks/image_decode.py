"""The CPU an image costs in coco_images: decoded twice (checked, then resized; before) or once.

    python benchmarks/image_decode.py [--images DIR] [--rounds 7]

Each way does an image's whole CPU work after its download, on real COCO JPEGs (by default
../shared/data/coco-sample/train2017, read from disk beforehand): decode, convert to RGB,
resize to 64x64 with the BOX filter, encode the PNG the cache keeps. The two ways alternate
round after round in one process (the VM's speed swings from run to run) and the table gives
each one's best and median images/s. The last line, `ratio: X`, is the median of once / twice.
"""

import argparse
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from visionrepro.data.coco import decode_image, resize_area, small_image

SIZE = 64
DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / "shared/data/coco-sample/train2017"


def twice(data: bytes, width: int, height: int) -> Image.Image:
    """What fetch_one did before: decode to check the download, then decode again to resize."""
    decode_image(data, width, height)
    return resize_area(decode_image(data, width, height), SIZE)


def once(data: bytes, width: int, height: int) -> Image.Image:
    """What fetch_one does now: one decode, checked and resized."""
    return small_image(data, width, height, SIZE)


def images_per_second(way: Callable, images: list[tuple[bytes, int, int]]) -> float:
    """Run `way` and the PNG encode over every image; return images/s."""
    started = time.perf_counter()
    for data, width, height in images:
        way(data, width, height).save(io.BytesIO(), format="PNG")
    return len(images) / (time.perf_counter() - started)


def load(folder: Path) -> list[tuple[bytes, int, int]]:
    """Every JPEG of folder as (bytes, width, height)."""
    images = []
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as img:
            width, height = img.size
        images.append((path.read_bytes(), width, height))
    if not images:
        raise SystemExit(f"no *.jpg in {folder}; pass --images DIR")
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    images = load(args.images)
    ways = {"twice (before)": twice, "once (now)": once}
    rates: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            rates[name].append(images_per_second(way, images))
    print(f"{len(images)} images from {args.images}, {args.rounds} rounds, one thread")
    print(f"{'way':16} {'best img/s':>10} {'median img/s':>12}")
    for name, values in rates.items():
        print(f"{name:16} {max(values):10.1f} {statistics.median(values):12.1f}")
    ratio = statistics.median(rates["once (now)"]) / statistics.median(rates["twice (before)"])
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
