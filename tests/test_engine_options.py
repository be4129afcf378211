"""The engine's options for the small write-ups: SGD, fixed order, normalisation from the
training set, NLL, colour jitter, gradient means, the monitored split, colourization."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from visionrepro.data.color import color_names, save_palette, with_color_targets
from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.checkpoints import load_trained, save_trained
from visionrepro.engine.model_inputs import resolve_normalization, to_model_input
from visionrepro.engine.splits import training_splits
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import predict_with_loss, seed_everything, train
from visionrepro.models import build_network

CPU = torch.device("cpu")
DIGITS = tuple(str(i) for i in range(10))


pytestmark = pytest.mark.usefixtures("one_thread")


def _digits(n: int, seed: int) -> ArrayDataset:
    """1 x 28 x 28 images whose bright column is the label."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 60, size=(n, 1, 28, 28)).astype(np.uint8)
    for i, label in enumerate(labels):
        images[i, 0, :, 2 + 2 * label] = 250
    return ArrayDataset(images, labels.astype(np.int64), np.arange(n), DIGITS)


def _color_images(n: int, seed: int, side: int = 8) -> ArrayDataset:
    """3 x side x side images: a red left half and a blue right half, with noise."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 3, side, side), dtype=np.uint8)
    images[:, 0, :, : side // 2] = 220
    images[:, 2, :, side // 2 :] = 220
    images = np.clip(images + rng.integers(0, 30, images.shape), 0, 255).astype(np.uint8)
    return ArrayDataset(images, np.zeros(n, dtype=np.int64), np.arange(n), ("horse",))


TRAIN, TEST = _digits(40, 1), _digits(20, 2)
SGD = TrainSettings(
    epochs=2,
    batch_size=8,
    lr=0.05,
    optimizer="sgd",
    shuffle=False,
    hflip=0.0,
    mean="train",
    std="train",
    loss="nll",
    log_every=2,
    color="gray",
)


def test_normalisation_from_the_training_images() -> None:
    resolved = resolve_normalization(SGD, TRAIN.images)
    pixels = TRAIN.images.astype(np.float64) / 255
    assert resolved.mean == pytest.approx((pixels.mean(),))
    assert resolved.std == pytest.approx((pixels.std(),))
    fixed = replace(SGD, mean=0.5, std=0.25)
    assert resolve_normalization(fixed, TRAIN.images) is fixed


def test_sgd_in_dataset_order_matches_a_plain_loop() -> None:
    state = train("MnistMLP", TRAIN, TEST, SGD, seed=3, device=CPU)
    model, history = state.model, state.history
    seed_everything(3)
    reference = build_network("MnistMLP", 10)
    optimizer = torch.optim.SGD(reference.parameters(), lr=SGD.lr)
    resolved = resolve_normalization(SGD, TRAIN.images)
    x = to_model_input(TRAIN.images, resolved)
    y = torch.as_tensor(TRAIN.labels)
    for _ in range(SGD.epochs):
        for start in range(0, len(x), SGD.batch_size):
            optimizer.zero_grad()
            batch = slice(start, start + SGD.batch_size)
            F.nll_loss(reference(x[batch]), y[batch]).backward()
            optimizer.step()
    for ours, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs)
    assert history["normalization"]["mean"] == pytest.approx(resolved.mean)


def test_history_has_train_and_monitored_scores_per_epoch() -> None:
    history = train("MnistMLP", TRAIN, TEST, SGD, seed=0, device=CPU, monitor="test").history
    for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        assert len(history[key]) == SGD.epochs, key
    assert "val_accuracy" not in history
    assert 0 <= history["test_accuracy"][-1] <= 100
    assert history["test_loss"][-1] > 0


def test_grad_means_of_the_first_steps() -> None:
    settings = replace(SGD, grad_steps=7)  # 5 steps per epoch: spans two epochs
    history = train("MnistMLP", TRAIN, TEST, settings, seed=0, device=CPU).history
    assert len(history["grad_mean"]) == 7
    seed_everything(0)
    model = build_network("MnistMLP", 10)
    x = to_model_input(TRAIN.images[:8], resolve_normalization(SGD, TRAIN.images))
    F.nll_loss(model(x), torch.as_tensor(TRAIN.labels[:8])).backward()
    first = torch.cat([p.grad.flatten() for p in model.parameters()]).mean().item()
    assert history["grad_mean"][0] == pytest.approx(first, rel=1e-5)


def test_color_jitter_is_seeded_and_changes_training() -> None:
    data = replace(_color_images(12, 0, side=32), labels=np.arange(12) % 2, classes=("a", "b"))
    base = TrainSettings(epochs=1, batch_size=4, lr=1e-3, hflip=0.5, log_every=1)
    jitter = replace(base, color_jitter=(0.2, 0.2, 0.2))

    def losses(settings: TrainSettings) -> list[float]:
        history = train("CifarCNN", data, data, settings, seed=0, device=CPU).history
        return [entry["loss"] for entry in history["loss"]]

    assert losses(jitter) == losses(jitter)
    assert losses(jitter) != losses(base)


def test_colorization_trains_a_grey_to_palette_network() -> None:
    palette = np.array([[0.9, 0.05, 0.05], [0.05, 0.05, 0.9]], dtype=np.float32)
    train_set = with_color_targets(_color_images(16, 0), palette)
    test_set = with_color_targets(_color_images(8, 1), palette)
    settings = TrainSettings(
        epochs=3,
        batch_size=8,
        lr=1e-2,
        hflip=0.0,
        mean=0.0,
        std=1.0,
        color="gray_mean",
        task="colorization",
        log_every=1,
    )
    state = train(
        "UNet",
        train_set,
        test_set,
        settings,
        seed=0,
        device=CPU,
        network_options={"in_channels": 1},
        monitor="test",
    )
    model, history = state.model, state.history
    assert len(history["test_pixel_accuracy"]) == 3 and "train_accuracy" not in history
    assert history["loss"][-1]["loss"] < history["loss"][0]["loss"]
    grey = to_model_input(train_set.images[:2], settings)
    assert grey.shape == (2, 1, 8, 8)
    expected = torch.as_tensor(train_set.images[:2]).float().div(255).mean(1, keepdim=True)
    torch.testing.assert_close(grey, expected)
    with torch.no_grad():
        assert model(grey).shape == (2, len(palette), 8, 8)


def test_model_file_holds_the_resolved_settings(tmp_path: Path) -> None:
    """model.pt carries what evaluation needs: the settings with the training set's mean/std."""
    state = train("MnistMLP", TRAIN, TEST, SGD, seed=0, device=CPU)
    save_trained(tmp_path / "model.pt", state, TRAIN.classes)
    trained = load_trained(tmp_path / "model.pt")
    assert trained.settings == state.settings == resolve_normalization(SGD, TRAIN.images)
    assert trained.classes == list(DIGITS) and trained.network == "MnistMLP"
    inputs = to_model_input(TEST.images, trained.settings)
    want, _ = predict_with_loss(state.model, inputs)
    got, _ = predict_with_loss(trained.build(), inputs)
    assert torch.equal(got, want)


def test_held_out_split_loads_the_training_pack_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    TRAIN.save(tmp_path / "train.npz")
    loaded: list[str] = []
    load = ArrayDataset.load
    monkeypatch.setattr(
        ArrayDataset,
        "load",
        classmethod(lambda cls, path, masks=None: loaded.append(str(path)) or load(path, masks)),
    )
    classes = ["3", "1", "7"]
    train_set, val_set = training_splits(
        tmp_path / "train.npz",
        tmp_path / "train.npz",
        classes=classes,
        val_fraction=0.25,
        split_seed=5,
    )
    assert loaded == [str(tmp_path / "train.npz")]
    want_train, want_val = TRAIN.select_classes(classes).split(0.25, 5)
    for got, want in ((train_set, want_train), (val_set, want_val)):
        assert got.classes == tuple(classes)
        np.testing.assert_array_equal(got.ids, want.ids)
        np.testing.assert_array_equal(got.labels, want.labels)


def test_colorization_splits_get_palette_targets(tmp_path: Path) -> None:
    palette = np.array([[0.9, 0.05, 0.05], [0.05, 0.05, 0.9]], dtype=np.float32)
    save_palette(tmp_path / "palette.npz", palette)
    data = _color_images(6, 0)
    data.save(tmp_path / "train.npz")
    _color_images(4, 1).save(tmp_path / "test.npz")
    train_set, test_set = training_splits(
        tmp_path / "train.npz", tmp_path / "test.npz", palette=tmp_path / "palette.npz"
    )
    assert len(test_set) == 4
    np.testing.assert_array_equal(train_set.masks, with_color_targets(data, palette).masks)
    assert train_set.mask_classes == color_names(palette)


def test_shuffle_once_keeps_one_seeded_order_for_every_epoch() -> None:
    """The colourization write-up's batches: one permutation of the images, every epoch."""
    from visionrepro.engine.training import TrainingBank

    data = _digits(50, seed=0)
    settings = TrainSettings(epochs=3, batch_size=10, lr=0.1, hflip=0.0, shuffle="once")
    bank = TrainingBank.build(data, settings, CPU, seed=4)
    generator = torch.Generator().manual_seed(0)
    epochs = [bank.epoch_rows(settings, generator) for _ in range(3)]
    assert all(torch.equal(rows, epochs[0]) for rows in epochs)
    assert sorted(epochs[0].tolist()) == list(range(50))
    assert not torch.equal(epochs[0], torch.arange(50))
    other = TrainingBank.build(data, settings, CPU, seed=5).epoch_rows(settings, generator)
    assert not torch.equal(other, epochs[0])  # the run's seed draws the order
    every_epoch = replace(settings, shuffle=True)
    fresh = [bank.epoch_rows(every_epoch, generator) for _ in range(2)]
    assert not torch.equal(fresh[0], fresh[1])
    with pytest.raises(ValueError, match="shuffle must be true, false or once"):
        replace(settings, shuffle="twice")
