"""A colourization palette: k-means on training pixels (rule color_palette). Apart from
`colour` (the targets, which every training job imports) so that editing the fit reruns only
the colourization experiments."""

import numpy as np
from sklearn.cluster import KMeans


def kmeans_palette(
    images: np.ndarray, colors: int, seed: int, sample_pixels: int = 200_000, n_init: int = 1
) -> np.ndarray:
    """`colors` RGB centres (float32 in [0, 1], K x 3) of k-means (k-means++ seeding, `n_init`
    runs, the best kept) on a seeded sample of `sample_pixels` pixels of `images` (uint8
    N x 3 x H x W)."""
    pixels = images.transpose(0, 2, 3, 1).reshape(-1, 3).astype(np.float32) / 255
    rng = np.random.default_rng(seed)
    if len(pixels) > sample_pixels:
        pixels = pixels[rng.choice(len(pixels), sample_pixels, replace=False)]
    kmeans = KMeans(n_clusters=colors, random_state=seed, n_init=n_init).fit(pixels)
    return kmeans.cluster_centers_.astype(np.float32)
