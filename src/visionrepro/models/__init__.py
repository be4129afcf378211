"""Network definitions; `build_network` instantiates one by name."""

import importlib

from torch import nn

from visionrepro.registry import NETWORK_MODULES


def build_network(name: str, num_classes: int) -> nn.Module:
    """Instantiate the network called `name` with `num_classes` outputs."""
    if name not in NETWORK_MODULES:
        known = ", ".join(sorted(NETWORK_MODULES))
        raise KeyError(f"unknown network {name!r}; known networks: {known}")
    module = importlib.import_module(f"visionrepro.models.{NETWORK_MODULES[name]}")
    return getattr(module, name)(num_classes=num_classes)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
