"""Tests for the colourization palette and the nearest-colour targets."""

import numpy as np

from visionrepro.data.color import (
    color_names,
    load_palette,
    nearest_color,
    save_palette,
    with_color_targets,
)
from visionrepro.data.datasets import ArrayDataset
from visionrepro.data.palette import kmeans_palette

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _image(rows: list[list[tuple[int, int, int]]]) -> np.ndarray:
    """A uint8 3 x H x W image from rows of RGB triples."""
    return np.array(rows, dtype=np.uint8).transpose(2, 0, 1)


def test_nearest_color_of_a_known_image() -> None:
    palette = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]], dtype=np.float32)
    image = _image([[RED, (200, 30, 30), BLUE], [(120, 130, 125), GREEN, (0, 40, 220)]])
    targets = nearest_color(image[None], palette)
    assert targets.dtype == np.uint8
    np.testing.assert_array_equal(targets[0], [[0, 0, 2], [3, 1, 2]])


def test_nearest_color_is_the_same_in_chunks() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 3, 5, 4), dtype=np.uint8)
    palette = rng.random((24, 3), dtype=np.float32)
    np.testing.assert_array_equal(
        nearest_color(images, palette, chunk=2), nearest_color(images, palette)
    )


def test_kmeans_palette_finds_the_colors_of_an_image_and_is_seeded() -> None:
    # Three flat colours in equal parts: k-means with 3 clusters finds exactly them.
    rows = [[RED] * 6, [GREEN] * 6, [BLUE] * 6]
    images = np.stack([_image(rows)] * 4)
    palette = kmeans_palette(images, colors=3, seed=0)
    assert palette.shape == (3, 3) and palette.dtype == np.float32
    found = sorted(map(tuple, np.rint(palette * 255).astype(int).tolist()))
    assert found == sorted([RED, GREEN, BLUE])
    rng = np.random.default_rng(1)
    noisy = rng.integers(0, 256, size=(20, 3, 8, 8), dtype=np.uint8)
    for n_init in (1, 4):
        np.testing.assert_array_equal(
            kmeans_palette(noisy, 5, seed=3, sample_pixels=1000, n_init=n_init),
            kmeans_palette(noisy, 5, seed=3, sample_pixels=1000, n_init=n_init),
        )


def test_color_targets_and_names(tmp_path) -> None:
    palette = np.array([[1, 0, 0], [0, 0, 1]], dtype=np.float32)
    images = np.stack([_image([[RED, BLUE]]), _image([[BLUE, BLUE]])])
    data = ArrayDataset(images, np.array([7, 7]), np.array([3, 9]), ("horse",))
    colored = with_color_targets(data, palette)
    np.testing.assert_array_equal(colored.masks, [[[0, 1]], [[1, 1]]])
    assert colored.mask_classes == color_names(palette) == ("#ff0000", "#0000ff")
    save_palette(tmp_path / "p.npz", palette)
    np.testing.assert_array_equal(load_palette(tmp_path / "p.npz"), palette)
