"""Colourization targets: each pixel's nearest palette colour; the palette's file and names
(the palette itself is fitted by `visionrepro.data.palette`)."""

import os
from dataclasses import replace

import numpy as np

from visionrepro.data.datasets import ArrayDataset, open_npz
from visionrepro.fileio import atomic_path


def nearest_color(images: np.ndarray, palette: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Index of the nearest palette colour (Euclidean, RGB in [0, 1]) of every pixel: uint8
    N x H x W for uint8 N x 3 x H x W images."""
    out = np.empty((len(images), *images.shape[2:]), dtype=np.uint8)
    for start in range(0, len(images), chunk):
        x = images[start : start + chunk].astype(np.float32) / 255  # n x 3 x H x W
        d = ((x[:, None] - palette[None, :, :, None, None]) ** 2).sum(axis=2)
        out[start : start + chunk] = d.argmin(axis=1)
    return out


def color_names(palette: np.ndarray) -> tuple[str, ...]:
    """The palette's colours as hex strings (the class names of a colourization run)."""
    rgb = np.clip(np.rint(palette * 255), 0, 255).astype(int)
    return tuple(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb)


def with_color_targets(dataset: ArrayDataset, palette: np.ndarray) -> ArrayDataset:
    """The dataset with per-pixel targets: each pixel's nearest palette colour (as its masks)."""
    return replace(
        dataset, masks=nearest_color(dataset.images, palette), mask_names=color_names(palette)
    )


def save_palette(path: str | os.PathLike, palette: np.ndarray) -> None:
    """Write a palette (K x 3 floats in [0, 1]) as an .npz file, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, palette=palette)


def load_palette(path: str | os.PathLike) -> np.ndarray:
    """Read a palette written by `save_palette`; a damaged file is an error naming it."""
    with open_npz(path, "palette") as data:
        return data["palette"]
