"""Network definitions; `build_network` instantiates one by name (or `<file>.py:<Class>`)."""

import importlib
from typing import Any

from torch import nn

from visionrepro.models.user import build_file_network
from visionrepro.networks import parse_network
from visionrepro.registry import network_entry


def build_network(name: str, num_classes: int, **options: Any) -> nn.Module:
    """Instantiate the network called `name` with `num_classes` outputs (and its `options`)."""
    if not parse_network(name).builtin:
        return build_file_network(name, num_classes, **options)
    entry = network_entry(name)
    module = importlib.import_module(f"visionrepro.models.{entry.module}")
    return getattr(module, entry.cls)(num_classes=num_classes, **options)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
