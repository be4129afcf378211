"""A folder of the user's own images as a dataset, in torchvision's ImageFolder layout:

    <path>/train/<class>/*.jpg  and  <path>/val/<class>/...  (or test/<class>/...)
    <path>/<class>/*.jpg        (one folder: a seeded, stratified split into train and test)

Class names come from the folder names (sorted, as ImageFolder's); the images of a class are the
files with an image extension anywhere under its folder (sorted, as ImageFolder's). Every image is
converted to RGB and resized to the experiment's image_size, then packed like the other sources.
The layout is read (no torch) while Snakemake parses the workflow, so that an empty class
folder or classes that differ between the splits are errors before any job runs. Each split's
manifest (every image's path, size and modification time) is then written when it changed: it
is the packing job's one input, and an image new to it is opened first, so that one that cannot
be read is named before any job runs (and never costs the packs already made).
"""

import hashlib
import logging
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from visionrepro.data.datasets import ArrayDataset
from visionrepro.data.torchvision_config import SourceError
from visionrepro.fileio import atomic_path, file_digest

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

# torchvision.datasets.folder.IMG_EXTENSIONS (a test checks), without importing torchvision.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
EVAL_SPLITS = ("val", "test")
SEEDED = "all"  # the one split of a folder without train/: split by seed when packed


@dataclass(frozen=True)
class FolderLayout:
    """The images of an image folder: its classes, and per split (train and val or test; or
    SEEDED) the files with their labels, in ImageFolder's order."""

    key: str  # the config key, for messages: image_folders.<name>
    root: Path
    classes: tuple[str, ...]
    samples: dict[str, list[tuple[Path, int]]]

    @property
    def seeded(self) -> bool:
        """Whether the folder is one set of class folders, split by seed when packed."""
        return SEEDED in self.samples

    @property
    def eval_split(self) -> str:
        """The split runs are evaluated on: val or test (test for a seeded split)."""
        return next((s for s in EVAL_SPLITS if s in self.samples), "test")

    @property
    def files(self) -> list[Path]:
        """Every image file, sorted (the inputs of the packing job)."""
        return sorted(path for samples in self.samples.values() for path, _ in samples)

    def source_split(self, split: str) -> str:
        """The layout's split a packed split is drawn from (SEEDED for a seeded folder)."""
        return SEEDED if self.seeded else split


def _refuse_braces(key: str, path: Path) -> None:
    """Snakemake reads braces in an input path as wildcards: a name with them is refused."""
    if "{" in path.name or "}" in path.name:
        raise SourceError(
            f"{key}.path: {path} has braces in its name, which Snakemake reads as wildcards; "
            "rename it without { and }"
        )


def _check_link(key: str, root: Path, path: Path) -> None:
    """A link inside an image folder must stay inside it and must not loop back to a folder
    above itself (which would list the same images again and again)."""
    if not path.is_symlink():
        return
    target = path.resolve()
    if not target.is_relative_to(root.resolve()):
        raise SourceError(
            f"{key}.path: {path} is a link to {target}, outside the folder {root}; copy the "
            "images into the folder or remove the link"
        )
    if target.is_dir() and path.parent.resolve().is_relative_to(target):
        raise SourceError(
            f"{key}.path: {path} is a link to {target}, a folder above it (a loop that lists "
            "the same images again and again); remove the link"
        )


def _regular(key: str, path: Path) -> Path:
    """`path` if it is a regular file (a FIFO or a device would block or never end)."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        raise SourceError(f"{key}.path: {path} cannot be read ({err}); fix or remove it") from err
    if not stat.S_ISREG(mode):
        raise SourceError(
            f"{key}.path: {path} is not a regular file (a FIFO, device or socket); remove it"
        )
    return path


def class_files(key: str, root: Path, folder: Path) -> list[Path]:
    """The image files under one class folder, sorted; links are followed only while they stay
    inside `root` without looping, and every image must be a regular file."""
    _refuse_braces(key, folder)
    _check_link(key, root, folder)
    found = []
    for here, dirs, names in os.walk(folder, followlinks=True):  # checked before descending
        for name in (*dirs, *names):
            _refuse_braces(key, Path(here, name))
            _check_link(key, root, Path(here, name))
        images = sorted(name for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
        found.append((here, [_regular(key, Path(here, name)) for name in images]))
    return [file for _, files in sorted(found) for file in files]  # ImageFolder's order


def refuse_same_files(key: str, paths: Sequence[Path]) -> None:
    """One file reached by two paths (links or hard links) would be counted twice and could
    land in both train and test: refused, naming both."""
    seen: dict[tuple[int, int], Path] = {}
    for path in paths:
        info = path.stat()
        first = seen.setdefault((info.st_dev, info.st_ino), path)
        if first != path:
            raise SourceError(
                f"{key}.path: {first} and {path} are the same file (a link); keep only one"
            )


def class_samples(
    key: str, folder: Path, root: Path | None = None
) -> tuple[tuple[str, ...], list[tuple[Path, int]]]:
    """(classes, [(file, label)]) of one split folder; an empty class folder is an error."""
    root = folder if root is None else root
    classes = tuple(sorted(entry.name for entry in os.scandir(folder) if entry.is_dir()))
    if not classes:
        raise SourceError(
            f"{key}.path: {folder} has no class folders; put each class's images in "
            f"{folder}/<class>/"
        )
    samples = []
    for label, name in enumerate(classes):
        files = class_files(key, root, folder / name)
        if not files:
            raise SourceError(
                f"{key}.path: the class folder {folder / name} has no images (files ending in "
                f"{', '.join(IMAGE_EXTENSIONS)}); add images or remove the folder"
            )
        samples += [(file, label) for file in files]
    return classes, samples


def read_layout(key: str, root: str | os.PathLike) -> FolderLayout:
    """The layout of the image folder `root` (config key `key`), checked."""
    root = Path(root)
    if not root.is_dir():
        raise SourceError(
            f"{key}.path: {str(root)!r} is not a folder (paths are relative to the project "
            "folder); point it at train/<class>/ with val/<class>/ or test/<class>/, or at "
            "<class>/ folders"
        )
    present = [s for s in ("train", *EVAL_SPLITS) if (root / s).is_dir()]
    if not present:
        classes, samples = class_samples(key, root)
        refuse_same_files(key, [path for path, _ in samples])
        return FolderLayout(key, root, classes, {SEEDED: samples})
    evals = [s for s in EVAL_SPLITS if s in present]
    if "train" not in present or len(evals) != 1:
        raise SourceError(
            f"{key}.path: {root} has {[f'{s}/' for s in present]}; it needs train/ and one of "
            "val/ or test/ (the split runs are evaluated on), or only <class>/ folders"
        )
    classes, train = class_samples(key, root / "train", root)
    eval_classes, held = class_samples(key, root / evals[0], root)
    refuse_same_files(key, [path for path, _ in (*train, *held)])
    if eval_classes != classes:
        raise SourceError(
            f"{key}.path: the classes of {root / 'train'} and {root / evals[0]} differ: only in "
            f"train/: {sorted(set(classes) - set(eval_classes))}, only in {evals[0]}/: "
            f"{sorted(set(eval_classes) - set(classes))}; give both the same class folders"
        )
    return FolderLayout(key, root, classes, {"train": train, evals[0]: held})


def content_hash(layout: FolderLayout) -> str:
    """The SHA-256 of the folder's images: their paths (relative to it) and contents."""
    digest = hashlib.sha256()
    for file in layout.files:
        digest.update(file.relative_to(layout.root).as_posix().encode() + b"\0")
        digest.update(file_digest(file, "sha256").encode() + b"\0")
    return digest.hexdigest()


def split_samples(
    layout: FolderLayout, split: str, test_fraction: float, seed: int
) -> list[tuple[Path, int]]:
    """The files and labels of `split`; a one-folder layout is split by seed, stratified by
    class (each class keeps about `test_fraction` of its images for test)."""
    if not layout.seeded:
        return layout.samples[split]
    from sklearn.model_selection import train_test_split

    samples = layout.samples[SEEDED]
    labels = [label for _, label in samples]
    try:
        train, test = train_test_split(
            np.arange(len(samples)), test_size=test_fraction, random_state=seed, stratify=labels
        )
    except ValueError as err:
        raise SourceError(
            f"{layout.key}.test_fraction: cannot split {len(samples)} images of "
            f"{len(layout.classes)} classes by class ({err}); add images or change test_fraction"
        ) from err
    return [samples[i] for i in sorted(train if split == "train" else test)]


def to_8bit(img: "Image.Image") -> "Image.Image":
    """A high-bit-depth grey image (16-bit "I;16", 32-bit "I", float "F") as 8-bit grey, by
    its real range: 16-bit values are divided by 257 (PIL's own conversion would clip them at
    255, whitening the image), floats in [0, 1] are scaled by 255."""
    from PIL import Image

    if img.mode.startswith("I"):
        pixels = np.asarray(img).astype(np.float64) / 257
    elif img.mode == "F":
        pixels = np.asarray(img).astype(np.float64)
        pixels = pixels * 255 if pixels.max(initial=0) <= 1 else pixels
    else:
        return img
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="L")


def load_image(path: Path, size: int, key: str) -> np.ndarray:
    """An image as uint8 3 x size x size: RGB, resized with area averaging (PIL's BOX filter,
    as the COCO copies); an unreadable one is an error naming it."""
    from PIL import Image

    _regular(key, path)  # checked again: the folder may have changed since it was listed
    try:
        with Image.open(path) as img:
            small = to_8bit(img).convert("RGB").resize((size, size), Image.Resampling.BOX)
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise SourceError(
            f"{key}: {path} cannot be read as an image ({err}); replace or remove it"
        ) from err
    return np.asarray(small).transpose(2, 0, 1)


def pack(
    layout: FolderLayout,
    split: str,
    size: int,
    *,
    test_fraction: float = 0.2,
    split_seed: int = 0,
) -> tuple[ArrayDataset, list[str]]:
    """One split as an ArrayDataset of size x size RGB images, and its files (relative to the
    folder) in id order; `test_fraction` and `split_seed` split a one-folder layout."""
    samples = split_samples(layout, split, test_fraction, split_seed)
    images = np.empty((len(samples), 3, size, size), dtype=np.uint8)
    for i, (path, _) in enumerate(samples):
        images[i] = load_image(path, size, layout.key)
    data = ArrayDataset(
        images=images,
        labels=np.array([label for _, label in samples], dtype=np.int64),
        ids=np.arange(len(samples), dtype=np.int64),
        classes=layout.classes,
    )
    return data, [path.relative_to(layout.root).as_posix() for path, _ in samples]


def class_counts(data: ArrayDataset) -> dict[str, int]:
    """Images per class."""
    counts = np.bincount(data.labels, minlength=len(data.classes))
    return dict(zip(data.classes, counts.tolist(), strict=True))


def folder_record(layout: FolderLayout, data: ArrayDataset, files: Sequence[str]) -> dict:
    """What a packed split came from (its provenance): the folder, its SHA-256, the classes,
    the images per class and each id's file."""
    return {
        "path": str(layout.root),
        "sha256": content_hash(layout),
        "classes": list(layout.classes),
        "per_class": class_counts(data),
        "files": list(files),
    }


def manifest_lines(
    layout: FolderLayout, split: str, known: dict[str, tuple[int, int, str]]
) -> tuple[list[str], dict[str, tuple[int, int, str]]]:
    """A split's images as its manifest lists them (path relative to the folder, SHA-256;
    tab-separated, in ImageFolder's order), and each one's size, modification time (ns) and
    SHA-256: an image whose size and time are those `known` has its SHA-256 taken from there,
    not read again."""
    lines, stats = [], {}
    for path, _ in layout.samples[split]:
        rel, info = path.relative_to(layout.root).as_posix(), path.stat()
        hit = known.get(rel)
        same = hit is not None and hit[:2] == (info.st_size, info.st_mtime_ns)
        digest = hit[2] if same else file_digest(path, "sha256")
        stats[rel] = (info.st_size, info.st_mtime_ns, digest)
        lines.append(f"{rel}\t{digest}")
    return lines, stats


def _read_stats(path: Path) -> dict[str, tuple[int, int, str]]:
    """The sizes, times and digests a previous parse recorded (none if unreadable)."""
    try:
        rows = [line.split("\t") for line in path.read_text().splitlines()]
        return {rel: (int(size), int(mtime), digest) for rel, size, mtime, digest in rows}
    except (OSError, ValueError):
        return {}


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    """Write `lines` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text("".join(f"{line}\n" for line in lines))


def check_image(path: Path, key: str) -> None:
    """Decode `path` (JPEGs at a reduced scale): an image that cannot be read is an error
    naming it."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.draft("RGB", (64, 64))
            img.load()
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise SourceError(
            f"{key}: {path} cannot be read as an image ({err}); replace or remove it"
        ) from err


def write_manifests(layout: FolderLayout, folder: Path) -> dict[str, str]:
    """Each split's manifest under `folder` (`<split>.tsv`, with `.<split>.stats.tsv` beside
    it so that unchanged images are not read again), written only when it changed: an
    unchanged one keeps its time, and a copied or touched image with the same content repacks
    nothing. Images new to a manifest are opened first (check_image). Returns the manifests'
    paths by split."""
    paths = {}
    for split in layout.samples:
        path, stats_path = folder / f"{split}.tsv", folder / f".{split}.stats.tsv"
        known = _read_stats(stats_path)
        lines, stats = manifest_lines(layout, split, known)
        old = path.read_text().splitlines() if path.is_file() else []
        if lines != old:
            seen = set(old)
            for line, (image, _) in zip(lines, layout.samples[split], strict=True):
                if line not in seen:
                    check_image(image, layout.key)
            _write_lines(path, lines)
        if stats != known:
            _write_lines(stats_path, ["\t".join(map(str, (k, *v))) for k, v in stats.items()])
        paths[split] = str(path)
    return paths
