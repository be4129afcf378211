"""Helpers of the engine tests: small datasets, a stand-in for a killed job, run comparison."""

from typing import Any

import numpy as np
import torch
from torch import nn

from visionrepro.data.datasets import ArrayDataset

CLASSES = ("boat", "cake", "couch", "dog", "motorcycle")
CPU = torch.device("cpu")
TIMINGS = ("epoch_seconds", "epoch_train_seconds", "images_per_second")


def without_timings(history: dict[str, Any]) -> dict[str, Any]:
    """A run's history without its wall-clock entries (which differ from run to run)."""
    return {k: v for k, v in history.items() if k not in TIMINGS}


def brightness_dataset(n: int, seed: int, side: int = 64) -> ArrayDataset:
    """Noisy 3 x side x side images whose brightness (and a little hue) depends on the class."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(CLASSES)
    rng.shuffle(labels)
    base = 30 + 45 * labels[:, None, None, None] + np.array([0, 10, -10])[None, :, None, None]
    noise = rng.normal(0, 12, size=(n, 3, side, side))
    images = np.clip(base + noise, 0, 255).astype(np.uint8)
    return ArrayDataset(images, labels.astype(np.int64), np.arange(n) + 1000 * seed, CLASSES)


class Killed(Exception):
    """Stands in for the job being killed between two epochs."""


def kill_after_first(epoch: int) -> None:
    """on_epoch_end callback: the job dies right after epoch 1 (and its checkpoint)."""
    if epoch == 1:
        raise Killed


def loss_log(history: dict[str, Any]) -> list[float]:
    return [entry["loss"] for entry in history["loss"]]


def assert_same_run(
    got: tuple[nn.Module, dict[str, Any]], want: tuple[nn.Module, dict[str, Any]]
) -> None:
    """Identical history (loss log, per-epoch scores; not the timings) and weights."""
    (model, history), (want_model, want_history) = got, want
    assert history["loss"] == want_history["loss"]
    assert without_timings(history) == without_timings(want_history)
    assert len(history["epoch_seconds"]) == len(want_history["epoch_seconds"])
    state, want_state = model.state_dict(), want_model.state_dict()
    assert list(state) == list(want_state)
    for name, tensor in state.items():
        assert torch.equal(tensor, want_state[name]), name
