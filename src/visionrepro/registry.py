"""Which module defines each network, and for which task: importable without torch.

Besides these built-in names, a network can be a class in a file of the user's project, named
`<file>.py:<Class>` (e.g. `nets/tiny.py:TinyNet`, the path relative to the project folder, which
is the working directory of every job); networks.py parses either kind of reference.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple


class NetworkEntry(NamedTuple):
    """Where a network is defined (module under visionrepro.models, class name), its task and
    the constructor options a config's `network_options` may set, with their types (the
    constructor's other arguments, num_classes and deeplabv3's weights_path, the pipeline
    sets; a test checks these against the constructors' signatures), and the one input shape
    C x H x W its layers are sized for (None: any size, channels from its `in_channels`)."""

    module: str
    cls: str
    task: str
    options: Mapping[str, type]
    input_shape: tuple[int, int, int] | None = None


_SEGNET = {"in_channels": int, "filters": int}
_GREY28 = (1, 28, 28)  # MNIST, Fashion-MNIST
NETWORKS: dict[str, NetworkEntry] = {
    "HW4Net1": NetworkEntry(
        "hw4net", "HW4Net1", "classification", {"padding": int, "extra_convs": int}, (3, 64, 64)
    ),
    "HW4Net2": NetworkEntry("hw4net", "HW4Net2", "classification", {}, (3, 64, 64)),
    "HW4Net3": NetworkEntry("hw4net", "HW4Net3", "classification", {}, (3, 64, 64)),
    "PoolUpsampleNet": NetworkEntry("segnets", "PoolUpsampleNet", "segmentation", _SEGNET),
    "ConvTransposeNet": NetworkEntry(
        "segnets", "ConvTransposeNet", "segmentation", {**_SEGNET, "skips": bool}
    ),
    "UNet": NetworkEntry("segnets", "UNet", "segmentation", _SEGNET),
    "deeplabv3": NetworkEntry("deeplab", "DeepLabV3Head", "segmentation", {"in_channels": int}),
    "MnistMLP": NetworkEntry("mlp", "MnistMLP", "classification", {}, _GREY28),
    "MnistCNN": NetworkEntry("smallcnn", "MnistCNN", "classification", {}, _GREY28),
    "FashionMLP": NetworkEntry("mlp", "FashionMLP", "classification", {}, _GREY28),
    "FashionMLPDeeper": NetworkEntry("mlp", "FashionMLPDeeper", "classification", {}, _GREY28),
    "FashionMLPWider": NetworkEntry("mlp", "FashionMLPWider", "classification", {}, _GREY28),
    "CifarCNN": NetworkEntry(
        "smallcnn",
        "CifarCNN",
        "classification",
        {"dropout": float, "bias": bool, "batchnorm": bool},
        (3, 32, 32),
    ),
}

PACKAGE_DIR = Path(__file__).resolve().parent


def network_entry(name: str) -> NetworkEntry:
    """The registry entry of network `name`."""
    try:
        return NETWORKS[name]
    except KeyError:
        known = ", ".join(sorted(NETWORKS))
        raise KeyError(f"unknown network {name!r}; known networks: {known}") from None
