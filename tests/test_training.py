"""Tests for the training engine: determinism, resume from checkpoints, logging, inputs."""

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from training_helpers import (
    CLASSES,
    CPU,
    Killed,
    assert_same_run,
    brightness_dataset,
    kill_after_first,
    loss_log,
)

from visionrepro.engine.model_inputs import rgb_to_gray, to_model_input
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import predict_with_loss, train

NETWORK = "HW4Net1"
# 42 images in batches of 4: 11 iterations per epoch, the last one a batch of 2, so that the
# loss log (every 5 iterations) has a partial window at the end of every epoch.
N_TRAIN, N_VAL = 42, 20
ITERS = 11
SETTINGS = TrainSettings(epochs=3, batch_size=4, lr=1e-3, betas=(0.9, 0.99), log_every=5)
TRAIN = brightness_dataset(N_TRAIN, seed=1)
VAL = brightness_dataset(N_VAL, seed=2)


pytestmark = pytest.mark.usefixtures("one_thread")


def _run(
    settings: TrainSettings = SETTINGS, seed: int = 0, **kwargs: Any
) -> tuple[nn.Module, dict[str, Any]]:
    state = train(NETWORK, TRAIN, VAL, settings, seed=seed, device=CPU, **kwargs)
    return state.model, state.history


@pytest.fixture(scope="module")
def reference(one_thread: None) -> tuple[nn.Module, dict[str, Any]]:
    """One uninterrupted run with the default settings and seed 0."""
    return _run()


def test_same_seed_same_run(reference: tuple[nn.Module, dict[str, Any]]) -> None:
    _, history = reference
    assert len(history["val_accuracy"]) == SETTINGS.epochs
    assert all(np.isfinite(loss_log(history)))
    assert_same_run(_run(), reference)


def test_other_seed_other_run(reference: tuple[nn.Module, dict[str, Any]]) -> None:
    _, history = _run(seed=1)
    assert len(loss_log(history)) == len(loss_log(reference[1]))
    assert loss_log(history) != loss_log(reference[1])
    assert loss_log(history)[0] != loss_log(reference[1])[0]  # other initial weights


def test_learns_the_brightness_classes(reference: tuple[nn.Module, dict[str, Any]]) -> None:
    _, history = reference
    losses = loss_log(history)
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
    assert history["val_accuracy"][-1] > 100 / len(CLASSES)


def test_resume_after_kill_equals_uninterrupted_run(
    reference: tuple[nn.Module, dict[str, Any]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    checkpoint = tmp_path / "ckpt.pt"
    with pytest.raises(Killed):
        _run(checkpoint=checkpoint, on_epoch_end=kill_after_first)
    assert checkpoint.is_file()
    assert not checkpoint.with_name(checkpoint.name + ".tmp").exists()
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert saved["epoch"] == 1
    assert saved["history"]["loss"] == reference[1]["loss"][:3]

    torch.rand(1000)  # disturb the global generator between the kill and the restart
    seen: list[int] = []
    with caplog.at_level(logging.INFO, logger="visionrepro"):
        resumed = _run(checkpoint=checkpoint, on_epoch_end=seen.append)
    assert seen == [2, 3], "resumed run repeated or skipped epochs"
    assert "from the checkpoint after epoch 1" in caplog.text
    assert_same_run(resumed, reference)
    assert torch.load(checkpoint, map_location="cpu", weights_only=True)["epoch"] == 3


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"settings": replace(SETTINGS, lr=2e-3)}, id="other-lr"),
        pytest.param({"seed": 7}, id="other-seed"),
    ],
)
def test_checkpoint_of_other_configuration_is_ignored(
    other: dict[str, Any],
    reference: tuple[nn.Module, dict[str, Any]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    checkpoint = tmp_path / "ckpt.pt"
    settings = other.get("settings", SETTINGS)
    with pytest.raises(Killed):
        train(
            NETWORK,
            TRAIN,
            VAL,
            settings,
            seed=other.get("seed", 0),
            device=CPU,
            checkpoint=checkpoint,
            on_epoch_end=kill_after_first,
        )
    # The checkpoint now belongs to the other configuration (after its epoch 1).
    seen: list[int] = []
    with caplog.at_level(logging.INFO, logger="visionrepro"):
        got = _run(checkpoint=checkpoint, on_epoch_end=seen.append)
    assert seen == [1, 2, 3]
    assert "belongs to another configuration" in caplog.text
    assert "resuming" not in caplog.text
    assert_same_run(got, reference)


def test_checkpoint_of_other_training_data_is_ignored(
    reference: tuple[nn.Module, dict[str, Any]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpoint = tmp_path / "ckpt.pt"
    other_train = brightness_dataset(N_TRAIN, seed=3)
    with pytest.raises(Killed):
        train(
            NETWORK,
            other_train,
            VAL,
            SETTINGS,
            seed=0,
            device=CPU,
            checkpoint=checkpoint,
            on_epoch_end=kill_after_first,
        )
    assert torch.load(checkpoint, map_location="cpu", weights_only=True)["epoch"] == 1
    with caplog.at_level(logging.WARNING, logger="visionrepro"):
        got = _run(checkpoint=checkpoint)
    assert "belongs to another configuration or dataset" in caplog.text
    assert "(the data differs)" in caplog.text
    assert_same_run(got, reference)


def test_unreadable_checkpoint_is_ignored(
    reference: tuple[nn.Module, dict[str, Any]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpoint = tmp_path / "ckpt.pt"
    checkpoint.write_bytes(b"not a checkpoint")
    with caplog.at_level(logging.WARNING, logger="visionrepro"):
        got = _run(checkpoint=checkpoint)
    assert "ignoring unreadable checkpoint" in caplog.text
    assert_same_run(got, reference)


def test_loss_log_windows(reference: tuple[nn.Module, dict[str, Any]]) -> None:
    _, history = reference
    log = history["loss"]
    expected_iterations = [
        (epoch - 1) * ITERS + done for epoch in (1, 2, 3) for done in (5, 10, ITERS)
    ]
    assert [entry["iteration"] for entry in log] == expected_iterations
    assert [entry["epoch"] for entry in log] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert all(set(entry) == {"epoch", "iteration", "loss"} for entry in log)

    # Every entry is the mean of the per-iteration losses of its window (5, 5, then 1).
    _, per_iteration = _run(replace(SETTINGS, log_every=1))
    single = loss_log(per_iteration)
    assert [e["iteration"] for e in per_iteration["loss"]] == list(range(1, 3 * ITERS + 1))
    windows = [(0, 5), (5, 10), (10, 11)]
    expected = [
        np.mean(single[(epoch * ITERS) + a : (epoch * ITERS) + b])
        for epoch in range(3)
        for a, b in windows
    ]
    np.testing.assert_allclose(loss_log(history), expected, rtol=1e-6)


def test_predict_labels_in_range(reference: tuple[nn.Module, dict[str, Any]]) -> None:
    model, history = reference
    inputs = to_model_input(VAL.images, SETTINGS)
    preds, _ = predict_with_loss(model, inputs, batch_size=7)
    assert preds.shape == (N_VAL,)
    assert preds.dtype == torch.int64
    assert preds.min() >= 0 and preds.max() < len(CLASSES)
    with torch.no_grad():
        assert torch.equal(preds, model(inputs).argmax(1))
    accuracy = 100.0 * (preds == torch.as_tensor(VAL.labels)).double().mean().item()
    assert accuracy == history["val_accuracy"][-1]


def test_grey_conversion_is_torchvisions_exactly() -> None:
    from torchvision.transforms.v2.functional import rgb_to_grayscale

    x = torch.rand(4, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    assert torch.equal(rgb_to_gray(x), rgb_to_grayscale(x, num_output_channels=3))


def test_gray_inputs_have_identical_channels() -> None:
    images = np.zeros((3, 3, 2, 2), dtype=np.uint8)
    images[0, 0] = 255  # pure red
    images[1, 2] = 255  # pure blue
    images[2] = 255  # white
    gray = to_model_input(images, replace(SETTINGS, color="gray"), chunk=2)
    assert gray.shape == (3, 3, 2, 2) and gray.dtype == torch.float32
    assert torch.equal(gray[:, 0], gray[:, 1]) and torch.equal(gray[:, 1], gray[:, 2])
    # ITU-R 601 luma, normalised with mean 0.5, std 0.5.
    expected = torch.tensor([0.299, 0.114, 1.0]) * 2 - 1
    torch.testing.assert_close(gray[:, 0, 0, 0], expected, atol=2e-3, rtol=0)

    rgb = to_model_input(images, SETTINGS)
    torch.testing.assert_close(rgb[0, :, 0, 0], torch.tensor([1.0, -1.0, -1.0]))
    torch.testing.assert_close(rgb[1, :, 0, 0], torch.tensor([-1.0, -1.0, 1.0]))
    assert not torch.equal(rgb[:, 0], rgb[:, 2])


def test_gray_training_runs() -> None:
    settings = replace(SETTINGS, epochs=1, color="gray")
    model, history = _run(settings)
    assert len(history["val_accuracy"]) == 1
    assert 0.0 <= history["val_accuracy"][0] <= 100.0


def test_settings_reject_unknown_color() -> None:
    with pytest.raises(ValueError, match="'hsv'"):
        TrainSettings(epochs=1, batch_size=4, lr=1e-3, color="hsv")


def test_from_config() -> None:
    config = {"epochs": 2, "batch_size": 4, "lr": 1e-3, "betas": [0.9, 0.99], "log_every": 5}
    settings = TrainSettings.from_config(config, color="gray")
    assert settings == replace(SETTINGS, epochs=2, color="gray")
    assert settings.betas == (0.9, 0.99)

    with pytest.raises(KeyError) as err:
        TrainSettings.from_config({**config, "momentum": 0.9, "nesterov": True})
    assert "momentum" in str(err.value) and "nesterov" in str(err.value)
    assert "epochs" not in str(err.value).split(";")[0]
    with pytest.raises(ValueError, match="'sepia'"):
        TrainSettings.from_config(config, color="sepia")


def test_checkpoint_with_other_val_set_is_not_resumed(tmp_path: Path) -> None:
    checkpoint = tmp_path / "ckpt.pt"
    with pytest.raises(Killed):
        _run(checkpoint=checkpoint, on_epoch_end=kill_after_first)
    # Another val set: same images, every label shifted to the next class.
    other_val = replace(VAL, labels=(VAL.labels + 1) % len(CLASSES))
    fresh = train(NETWORK, TRAIN, other_val, SETTINGS, seed=0, device=CPU).history
    resumed = train(
        NETWORK, TRAIN, other_val, SETTINGS, seed=0, device=CPU, checkpoint=checkpoint
    ).history
    # Same training data and seed: the weights and losses agree either way...
    assert resumed["loss"] == fresh["loss"]
    # ...but epoch 1's accuracy in the resumed history was measured on the old val set.
    assert resumed["val_accuracy"] == fresh["val_accuracy"]


def test_from_config_rejects_color_inside_train() -> None:
    config = {"epochs": 2, "batch_size": 4, "lr": 1e-3, "color": "gray"}
    with pytest.raises((KeyError, ValueError), match="color"):
        TrainSettings.from_config(config, color="rgb")
