"""The engine's in-memory dataset format: uint8 images N x C x H x W, labels, ids, class names,
and for segmentation uint8 masks N x H x W (0 background, label + 1 for each class)."""

import os
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from visionrepro.errors import UserError
from visionrepro.fileio import atomic_path


@dataclass(frozen=True)
class ArrayDataset:
    """A packed split: images (uint8, N x C x H x W), integer labels, source ids, class names."""

    images: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    classes: tuple[str, ...]
    masks: np.ndarray | None = None
    mask_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"images must be uint8 N x C x H x W, got {self.images.dtype} {self.images.shape}"
            )
        if not len(self.images) == len(self.labels) == len(self.ids):
            raise ValueError("images, labels and ids differ in length")
        if self.masks is not None and (
            self.masks.dtype != np.uint8 or self.masks.shape != (len(self), *self.images.shape[2:])
        ):
            raise ValueError(
                f"masks must be uint8 N x H x W matching the images {self.images.shape}, "
                f"got {self.masks.dtype} {self.masks.shape}"
            )

    @property
    def mask_classes(self) -> tuple[str, ...]:
        """The classes of mask pixels: `mask_names` if set (colourization: the palette), else
        background, then the dataset's classes."""
        return self.mask_names or ("background", *self.classes)

    @property
    def mask_values(self) -> np.ndarray:
        """Each image's object class in its mask: its label + 1 (0 is background)."""
        return self.labels + 1

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, index: np.ndarray) -> "ArrayDataset":
        """The images at `index` (with their labels, ids and masks)."""
        masks = None if self.masks is None else self.masks[index]
        return replace(
            self,
            images=self.images[index],
            labels=self.labels[index],
            ids=self.ids[index],
            masks=masks,
        )

    def select_classes(self, names: Sequence[str]) -> "ArrayDataset":
        """Only the images of the classes `names`, relabelled 0.. in the order of `names`."""
        missing = [n for n in names if n not in self.classes]
        if missing:
            raise ValueError(f"classes {missing} are not in the dataset's {list(self.classes)}")
        old = [self.classes.index(n) for n in names]
        subset = self.take(np.flatnonzero(np.isin(self.labels, old)))
        relabel = np.zeros(len(self.classes), dtype=np.int64)
        relabel[old] = np.arange(len(old))
        return replace(subset, labels=relabel[subset.labels], classes=tuple(names))

    def split(self, fraction: float, seed: int) -> tuple["ArrayDataset", "ArrayDataset"]:
        """A seeded random split: (the rest, `fraction` of the images), each in original order."""
        n_held = round(len(self) * fraction)
        order = np.random.default_rng(seed).permutation(len(self))
        held = np.sort(order[:n_held])
        rest = np.sort(order[n_held:])
        return self.take(rest), self.take(held)

    def save(self, path: str | os.PathLike) -> None:
        """Write the split as an .npz file, atomically."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                images=self.images,
                labels=self.labels,
                ids=self.ids,
                classes=np.array(self.classes),
            )

    @classmethod
    def load(
        cls, path: str | os.PathLike, masks: str | os.PathLike | None = None
    ) -> "ArrayDataset":
        """Read a split written by `save`, with the masks written by `save_masks` if given."""
        with open_npz(path) as data:
            dataset = cls(
                images=data["images"],
                labels=data["labels"].astype(np.int64),
                ids=data["ids"],
                classes=tuple(str(c) for c in data["classes"]),
            )
        if masks is None:
            return dataset
        with open_npz(masks) as data:
            ids, mask_array = data["ids"], data["masks"]
        if not np.array_equal(ids, dataset.ids):
            raise ValueError(
                f"{masks} belongs to other images than {path}; delete both and rerun the "
                "workflow to rebuild them"
            )
        return replace(dataset, masks=mask_array)


def save_masks(path: str | os.PathLike, masks: np.ndarray, ids: np.ndarray) -> None:
    """Write a split's masks, with the ids of the images they belong to, as a compressed .npz
    file (mostly background: a small fraction of the raw size)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, masks=masks, ids=ids)


# What np.load and reading an .npz member raise for a damaged file (a truncated zip:
# BadZipFile).
_ZIP_MAGIC = b"PK\x03\x04"
_DAMAGED = (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


class DamagedFileError(UserError, ValueError):
    """A file the workflow made that cannot be read; the message names it and how to rebuild."""


@contextmanager
def open_npz(path: str | os.PathLike, what: str = "packed dataset") -> Iterator[Any]:
    """Open an .npz file the workflow wrote; a damaged one is a DamagedFileError naming it."""
    try:
        with open(path, "rb") as fh:
            if fh.read(len(_ZIP_MAGIC)) != _ZIP_MAGIC:
                # (np.load would offer to read it as a pickle, "unsafely")
                raise ValueError("not an .npz file: it does not start as a zip archive")
        with np.load(path) as data:
            yield data
    except _DAMAGED as err:
        raise DamagedFileError(
            f"{path}: damaged {what} ({type(err).__name__}: {err}); delete {path} and rerun "
            "the workflow to rebuild it"
        ) from err
