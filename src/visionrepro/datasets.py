"""The engine's in-memory dataset format: uint8 images N x C x H x W, labels, ids, class names."""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visionrepro.fileio import atomic_path


@dataclass(frozen=True)
class ArrayDataset:
    """A packed split: images (uint8, N x C x H x W), integer labels, source ids, class names."""

    images: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"images must be uint8 N x C x H x W, got {self.images.dtype} {self.images.shape}"
            )
        if not len(self.images) == len(self.labels) == len(self.ids):
            raise ValueError("images, labels and ids differ in length")

    def __len__(self) -> int:
        return len(self.labels)

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
    def load(cls, path: str | os.PathLike) -> "ArrayDataset":
        """Read a split written by `save`."""
        path = Path(path)
        try:
            with np.load(path) as data:
                return cls(
                    images=data["images"],
                    labels=data["labels"].astype(np.int64),
                    ids=data["ids"],
                    classes=tuple(str(c) for c in data["classes"]),
                )
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(
                f"{path} is not a packed dataset ({err}); delete it and rerun "
                "the workflow to rebuild it"
            ) from err
