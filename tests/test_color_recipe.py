"""The pipeline's colourization training is the write-up's recipe: given the same random draws,
`benchmarks/colour_plain.py` (the recipe written plainly, apart from the library) ends with the
same weights and the same per-epoch scores, bit for bit (docs/differences.md)."""

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from visionrepro.data.color import with_color_targets
from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import train

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
    return with_color_targets(data, palette)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_plain_recipe_with_the_pipelines_draws_trains_the_same_unet(threads: int) -> None:
    """Bit for bit: both sides run the same arithmetic (channels-last, fused Adam), so the
    comparison holds on any CPU and ISA path, where a tolerance tuned on one CPU did not (Adam
    amplifies last-bit rounding differences of NCHW against channels-last to ~1e-4 in 8 steps)."""
    rng = np.random.default_rng(0)
    train_images = rng.integers(0, 256, size=(40, 3, 8, 8), dtype=np.uint8)
    test_images = rng.integers(0, 256, size=(20, 3, 8, 8), dtype=np.uint8)
    palette = rng.random((6, 3), dtype=np.float32)
    seed = 3
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
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
        plain_scores = plain.train_plain(prepared, model, epochs=2, batch=10, engine_layout=True)

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
    finally:
        torch.set_num_threads(previous)

    ours = dict(state.model.named_parameters())
    assert [p.shape for p in ours.values()] == [p.shape for p in model.parameters()]
    for (name, q), p, p0 in zip(ours.items(), model.parameters(), initial, strict=True):
        assert not torch.equal(p, p0), f"{name} did not train"
        assert torch.equal(p, q), f"{name}: max difference {(p - q).abs().max().item():.2e}"
    assert plain_scores == state.history["test_pixel_accuracy"]
