"""Network definitions; `build_network` instantiates one by name."""

import importlib

from torch import nn

from visionrepro.registry import network_module


def build_network(name: str, num_classes: int) -> nn.Module:
    """Instantiate the network called `name` with `num_classes` outputs."""
    module = importlib.import_module(f"visionrepro.models.{network_module(name)}")
    return getattr(module, name)(num_classes=num_classes)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
