"""The MNIST, Fashion-MNIST and CIFAR-10 sources' names and config checks.

Light enough (no torch) to import while Snakemake parses the workflow, and in the demo's
data generators.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from visionrepro.errors import UserError

DATASETS = ("mnist", "fashion_mnist", "cifar10")
SPLITS = ("train", "test")

# torchvision's CIFAR10 reads its class names from batches.meta, so they are not a class
# attribute; these are that file's label_names, in label order.
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
# torchvision's MNIST.classes and FashionMNIST.classes (a test checks), for checking a config's
# `classes` before any job runs without importing torchvision.
MNIST_CLASSES = (
    "0 - zero",
    "1 - one",
    "2 - two",
    "3 - three",
    "4 - four",
    "5 - five",
    "6 - six",
    "7 - seven",
    "8 - eight",
    "9 - nine",
)
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CLASSES = {
    "mnist": MNIST_CLASSES,
    "fashion_mnist": FASHION_MNIST_CLASSES,
    "cifar10": CIFAR10_CLASSES,
}
# Height and width of each dataset's images (28x28 IDX digits and clothes, 32x32 CIFAR-10).
IMAGE_SIZES = {"mnist": 28, "fashion_mnist": 28, "cifar10": 32}
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"  # torchvision's CIFAR10.filename (a test checks)


class SourceError(UserError, ValueError):
    """A local copy or archive that cannot be used; the message names it and the config key."""


def demo_copy(dataset: str, local_dir: str, demo: Mapping | None) -> str | None:
    """The demo's synthetic copy of dataset if local_dir names it (the workflow generates it)."""
    if not (demo and demo.get("sources_dir") and local_dir):
        return None
    generated = os.path.normpath(f"{demo['sources_dir']}/{dataset}")
    return generated if os.path.normpath(local_dir) == generated else None


def data_form(dataset: str, source: Mapping, demo: Mapping | None = None) -> str:
    """What a source gives, for comparing with a reference like for like: "synthetic" (the
    demo's copies), "re-encoded images" (CIFAR-10 as image files, pixels a few levels off),
    "unchecked copy" (MD5 check off) or "original" (the official files)."""
    local = source.get("local_dir", "")
    if demo_copy(dataset, local, demo):
        return "synthetic"
    if dataset == "cifar10" and local and not (Path(local) / CIFAR10_ARCHIVE).is_file():
        return "re-encoded images"
    return "original" if source.get("md5_check", True) else "unchecked copy"


def check_local_dirs(sources: Mapping[str, Mapping], demo: Mapping | None = None) -> None:
    """Each source's local_dir, if set, exists (unless the demo generates it)."""
    for name, source in sources.items():
        local = Path(source["local_dir"])
        if not source["local_dir"] or demo_copy(name, source["local_dir"], demo):
            continue
        if local.is_dir() or (name == "cifar10" and local.is_file()):
            continue
        what = (
            f"a folder with {CIFAR10_ARCHIVE} or with train/<class>/ and test/<class>/ "
            "images, or a .tar.gz of such folders"
            if name == "cifar10"
            else "a folder with the four IDX files (gzipped or not)"
        )
        raise SourceError(
            f"{name}.local_dir: {str(local)!r} does not exist or is not a folder; set it to "
            f"{what}, or to '' to download"
        )
