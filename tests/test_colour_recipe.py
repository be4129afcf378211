"""The pipeline's colourization training is the write-up's recipe: given the same random draws,
`benchmarks/colour_plain.py` (the recipe written plainly, apart from the library) ends with the
same weights and the same per-epoch scores (docs/differences.md)."""

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

from visionrepro.colour import with_colour_targets
from visionrepro.datasets import ArrayDataset
from visionrepro.train_settings import TrainSettings
from visionrepro.training import train

PLAIN = Path(__file__).parents[1] / "benchmarks" / "colour_plain.py"
RECIPE = {
    "epochs": 2,
    "batch_size": 10,
    "lr": 1e-3,
    "optimizer": "adam",
    "shuffle": "once",
    "hflip": 0.0,
    "mean": 0.0,
    "std": 1.0,
    "loss": "cross_entropy",
}


def _plain() -> ModuleType:
    spec = importlib.util.spec_from_file_location("colour_plain", PLAIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _horses(images: np.ndarray, palette: np.ndarray) -> ArrayDataset:
    n = len(images)
    data = ArrayDataset(images, np.zeros(n, dtype=np.int64), np.arange(n), ("horse",))
    return with_colour_targets(data, palette)


def test_the_plain_recipe_with_the_pipelines_draws_trains_the_same_unet() -> None:
    rng = np.random.default_rng(0)
    train_images = rng.integers(0, 256, size=(40, 3, 8, 8), dtype=np.uint8)
    test_images = rng.integers(0, 256, size=(20, 3, 8, 8), dtype=np.uint8)
    palette = rng.random((6, 3), dtype=np.float32)
    seed = 3

    plain = _plain()
    torch.manual_seed(seed)
    prepared = plain.prepare(
        train_images.astype(np.float32) / 255,
        test_images.astype(np.float32) / 255,
        palette,
        seed,
        pipeline_order=True,
    )
    model = plain.Net(len(palette), skips=True, library_order=True)
    initial = [p.detach().clone() for p in model.parameters()]
    plain_scores = plain.train_plain(prepared, model, epochs=2, batch=10)

    settings = TrainSettings.from_config(RECIPE, color="gray_mean", task="colorization")
    state = train(
        "UNet",
        _horses(train_images, palette),
        _horses(test_images, palette),
        settings,
        seed=seed,
        device=torch.device("cpu"),
        network_options={"in_channels": 1},
        monitor="test",
    )

    ours = dict(state.model.named_parameters())
    assert [p.shape for p in ours.values()] == [p.shape for p in model.parameters()]
    compared = 0
    for (name, q), p, p0 in zip(ours.items(), model.parameters(), initial, strict=True):
        if name.endswith(".0.bias"):
            # A conv bias before BatchNorm has a gradient of zero up to rounding, which Adam
            # scales up to lr-sized steps: it drifts apart with the memory layout, and BatchNorm
            # removes it from the output.
            continue
        assert (p - p0).abs().max() > 1e-3, f"{name} did not train"
        torch.testing.assert_close(p.detach(), q.detach(), atol=5e-5, rtol=1e-4, msg=name)
        compared += 1
    assert compared == 14
    np.testing.assert_allclose(plain_scores, state.history["test_pixel_accuracy"], atol=0.5)
