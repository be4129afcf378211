"""The adapters on the real data in ../shared/data and Debian's Fashion-MNIST (skipped when
absent): packed sizes, labels and class counts against known facts, and a short real training
run that must clearly beat chance."""

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.datasets import MNIST, FashionMNIST
from workflow_helpers import PROJECT

from visionrepro.data.datasets import ArrayDataset
from visionrepro.data.torchvision_config import CIFAR10_CLASSES
from visionrepro.data.torchvision_data import obtain, pack
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import train

SHARED = PROJECT.parent / "shared" / "data"
MNIST_DIR = SHARED / "mnist"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
CIFAR_JPEG = SHARED / "cifar10-jpeg.tar.gz"

pytestmark = pytest.mark.slow


CPU = torch.device("cpu")


def _skip_unless(path: Path, what: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not path.exists(), reason=f"real {what} not found at {path}")


@pytest.fixture(scope="module")
def mnist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ArrayDataset]:
    """The real MNIST from ../shared/data/mnist, obtained and packed once for the module."""
    if not MNIST_DIR.is_dir():
        pytest.skip(f"real MNIST not found at {MNIST_DIR}")
    root = tmp_path_factory.mktemp("mnist") / "raw"
    obtain("mnist", root, root.parent / "downloads", local_dir=str(MNIST_DIR))
    return {split: pack("mnist", root, split) for split in ("train", "test")}


@_skip_unless(MNIST_DIR, "MNIST")
def test_mnist_local_copy_accepted_by_decompressed_md5(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="visionrepro.data.torchvision_data"):
        obtain("mnist", tmp_path / "raw", tmp_path / "dl", local_dir=str(MNIST_DIR))
    message = "gzip differs from the official file; decompressed content matches the official MD5"
    assert caplog.text.count(message) == 4


def test_mnist_packed(mnist: dict[str, ArrayDataset]) -> None:
    train, test = mnist["train"], mnist["test"]
    assert train.images.shape == (60_000, 1, 28, 28) and test.images.shape == (10_000, 1, 28, 28)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(train.labels).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]  # fmt: skip
    assert np.bincount(test.labels).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009
    ]  # fmt: skip
    assert np.array_equal(test.ids, np.arange(10_000))
    assert train.classes == tuple(MNIST.classes)
    assert abs(train.images.mean() / 255 - 0.1307) < 0.001  # the usual normalisation mean


@_skip_unless(FASHION_DIR, "Fashion-MNIST (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_packed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="visionrepro.data.torchvision_data"):
        obtain("fashion_mnist", tmp_path / "raw", tmp_path / "dl", local_dir=str(FASHION_DIR))
    assert caplog.text.count("decompressed content matches the official MD5") == 4
    train, test = (pack("fashion_mnist", tmp_path / "raw", s) for s in ("train", "test"))
    assert train.images.shape == (60_000, 1, 28, 28) and test.images.shape == (10_000, 1, 28, 28)
    assert train.labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert test.labels[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert train.classes == tuple(FashionMNIST.classes)
    assert abs(train.images.mean() / 255 - 0.2860) < 0.001


@_skip_unless(CIFAR_JPEG, "CIFAR-10 JPEG copy")
def test_cifar10_jpeg_packed(tmp_path: Path) -> None:
    try:
        obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=str(CIFAR_JPEG))
        train, test = (pack("cifar10", tmp_path / "raw", s) for s in ("train", "test"))
    finally:  # 60,000 files would slow down pytest's clean-up of old temporary folders
        shutil.rmtree(tmp_path / "raw", ignore_errors=True)
    assert train.images.shape == (50_000, 3, 32, 32) and test.images.shape == (10_000, 3, 32, 32)
    assert np.bincount(train.labels).tolist() == [5000] * 10
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert train.classes == CIFAR10_CLASSES
    assert np.array_equal(train.ids, np.arange(50_000))
    # Per-channel means of the original training set (0.4914, 0.4822, 0.4465); JPEG moves
    # them by less than a level or two.
    means = train.images.mean(axis=(0, 2, 3)) / 255
    assert np.allclose(means, [0.4914, 0.4822, 0.4465], atol=0.01)


def test_short_mnist_training_beats_chance(mnist: dict[str, ArrayDataset]) -> None:
    """The engine with the write-up's MLP settings (SGD 0.01, batch 64, normalised with the
    training set's statistics, NLL), one epoch on 10,000 real images: far above 10 %."""
    settings = TrainSettings(
        epochs=1,
        batch_size=64,
        lr=0.01,
        optimizer="sgd",
        hflip=0.0,
        mean="train",
        std="train",
        loss="nll",
        color="gray",
    )
    train_set = mnist["train"].take(np.arange(10_000))
    history = train(
        "MnistMLP", train_set, mnist["test"], settings, seed=0, device=CPU, monitor="test"
    ).history
    assert history["test_accuracy"][-1] > 80.0, history["test_accuracy"]
