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
    sets; a test checks these against the constructors' signatures)."""

    module: str
    cls: str
    task: str
    options: Mapping[str, type]


_SEGNET = {"in_channels": int, "filters": int}
NETWORKS: dict[str, NetworkEntry] = {
    "HW4Net1": NetworkEntry(
        "hw4net", "HW4Net1", "classification", {"padding": int, "extra_convs": int}
    ),
    "HW4Net2": NetworkEntry("hw4net", "HW4Net2", "classification", {}),
    "HW4Net3": NetworkEntry("hw4net", "HW4Net3", "classification", {}),
    "PoolUpsampleNet": NetworkEntry("segnets", "PoolUpsampleNet", "segmentation", _SEGNET),
    "ConvTransposeNet": NetworkEntry(
        "segnets", "ConvTransposeNet", "segmentation", {**_SEGNET, "skips": bool}
    ),
    "UNet": NetworkEntry("segnets", "UNet", "segmentation", _SEGNET),
    "deeplabv3": NetworkEntry("deeplab", "DeepLabV3Head", "segmentation", {"in_channels": int}),
    "MnistMLP": NetworkEntry("mlp", "MnistMLP", "classification", {}),
    "MnistCNN": NetworkEntry("smallcnn", "MnistCNN", "classification", {}),
    "FashionMLP": NetworkEntry("mlp", "FashionMLP", "classification", {}),
    "FashionMLPDeeper": NetworkEntry("mlp", "FashionMLPDeeper", "classification", {}),
    "FashionMLPWider": NetworkEntry("mlp", "FashionMLPWider", "classification", {}),
    "CifarCNN": NetworkEntry(
        "smallcnn",
        "CifarCNN",
        "classification",
        {"dropout": float, "bias": bool, "batchnorm": bool},
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
