"""What the network sees: uint8 images converted to the run's colour, normalised, channels-last;
and the targets it learns (labels, or a class per pixel).

torchvision is imported only where it is needed (colour jitter): a workflow runs many short jobs,
and that import costs an evaluation job about two seconds (benchmarks/job_startup.py). Grey
conversion is therefore torchvision's `rgb_to_grayscale` formula written out here (a test checks
the two agree exactly).
"""

from dataclasses import replace

import numpy as np
import torch
from torch import Tensor

from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.tasks import TASKS

LUMA = (0.2989, 0.587, 0.114)  # ITU-R 601-2 weights of R, G, B, as torchvision's rgb_to_grayscale


def rgb_to_gray(x: Tensor) -> Tensor:
    """Grey float N x 3 x H x W images (the luma in all three channels), computed as
    torchvision's `rgb_to_grayscale(x, num_output_channels=3)` computes them."""
    r, g, b = x.unbind(dim=1)
    luma = r.mul(LUMA[0]).add_(g, alpha=LUMA[1]).add_(b, alpha=LUMA[2])
    return luma.unsqueeze(1).expand(x.shape)


def _to_color(x: Tensor, color: str) -> Tensor:
    """Float images in [0, 1] in the run's colour (see TrainSettings)."""
    if color == "gray" and x.shape[1] == 3:
        return rgb_to_gray(x)
    if color == "gray_mean":
        return x.mean(dim=1, keepdim=True)
    return x


def input_channels(channels: int, color: str) -> int:
    """Channels of the network's input for images with `channels` channels."""
    return 1 if color == "gray_mean" else channels


def resolve_normalization(settings: TrainSettings, images: np.ndarray) -> TrainSettings:
    """The settings with `mean`/`std` "train" replaced by the per-channel mean/std of `images`."""
    if "train" not in (settings.mean, settings.std):
        return settings
    x = torch.as_tensor(images)
    channels = input_channels(x.shape[1], settings.color)
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    for start in range(0, len(x), 4096):
        batch = _to_color(x[start : start + 4096].float().div_(255), settings.color).double()
        total += batch.sum(dim=(0, 2, 3))
        squares += batch.square().sum(dim=(0, 2, 3))
    count = len(x) * x.shape[2] * x.shape[3]
    mean = total / count
    std = (squares / count - mean.square()).sqrt()
    values = {"mean": tuple(mean.tolist()), "std": tuple(std.tolist())}
    return replace(settings, **{k: values[k] for k in values if getattr(settings, k) == "train"})


def to_model_input(
    images: np.ndarray | Tensor,
    settings: TrainSettings,
    *,
    mirrors: bool = False,
    normalize: bool = True,
    chunk: int = 1024,
) -> Tensor:
    """uint8 N x C x H x W -> float in [0, 1], in the run's colour, normalised, channels-last.

    With `mirrors`, rows N..2N-1 hold the horizontally flipped images, so that a batch, flipped
    or not, is gathered with one index operation (row i, or row i + N for its mirror image).
    Without `normalize` the values stay in [0, 1] (for colour jitter, which works on those).
    """
    images = torch.as_tensor(images)
    n, c, h, w = images.shape
    shape = (2 * n if mirrors else n, input_channels(c, settings.color), h, w)
    out = torch.empty(shape, memory_format=torch.channels_last)
    for start in range(0, n, chunk):
        x = _to_color(images[start : start + chunk].float().div_(255), settings.color)
        if normalize:
            x = normalize_input(x, settings)
        out[start : start + len(x)] = x
        if mirrors:
            out[n + start : n + start + len(x)] = x.flip(-1)
    return out


def normalize_input(x: Tensor, settings: TrainSettings) -> Tensor:
    """(x - mean) / std, per channel."""
    return (x - _per_channel(settings.mean, x)) / _per_channel(settings.std, x)


def _per_channel(value: float | str | tuple[float, ...], like: Tensor) -> Tensor:
    """A scalar, or one value per channel shaped to broadcast over C x H x W."""
    if isinstance(value, str):
        raise ValueError("mean/std 'train' must be resolved first (resolve_normalization)")
    return torch.tensor(value, dtype=like.dtype, device=like.device).reshape(-1, 1, 1)


def channels_last(x: Tensor) -> Tensor:
    """A batch of images in channels-last memory order (other tensors unchanged)."""
    return x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x


def color_jitter(x: Tensor, strength: tuple[float, float, float]) -> Tensor:
    """torchvision's ColorJitter(brightness, contrast, saturation), drawn anew for every image
    from torch's global generator."""
    from torchvision.transforms.v2 import ColorJitter

    jitter = ColorJitter(*strength)
    return torch.stack([jitter(image) for image in x])


def to_targets(dataset: ArrayDataset, settings: TrainSettings, *, mirrors: bool = False) -> Tensor:
    """The training targets: labels (int64), or uint8 masks for segmentation (rows N..2N-1: the
    mirror images')."""
    if not settings.kind.dense:
        labels = torch.as_tensor(dataset.labels)
        return torch.cat([labels, labels]) if mirrors else labels
    if dataset.masks is None:
        raise ValueError(f"a {settings.task} run needs a dataset with masks (per-pixel targets)")
    masks = torch.as_tensor(dataset.masks)
    return torch.cat([masks, masks.flip(-1)]) if mirrors else masks


def target_classes(dataset: ArrayDataset, task: str) -> tuple[str, ...]:
    """What the network predicts: the dataset's classes, or the mask classes per pixel."""
    return dataset.mask_classes if TASKS[task].dense else dataset.classes
