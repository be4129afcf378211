"""Tests for the HW4Net networks, build_network and the network registry."""

import ast
import importlib
from pathlib import Path

import pytest
import torch

from visionrepro.models import build_network, count_parameters
from visionrepro.registry import NETWORK_MODULES, network_source

NUM_CLASSES = 5


def conv(c_in: int, c_out: int, k: int = 3) -> int:
    """Weights plus biases of a k x k convolution."""
    return c_in * c_out * k * k + c_out


def linear(n_in: int, n_out: int) -> int:
    """Weights plus biases of a fully connected layer."""
    return n_in * n_out + n_out


# 64 -conv3-> 62 -pool-> 31 -conv3-> 29 -pool-> 14 without padding;
# 64 -conv3,pad1-> 64 -pool-> 32 -conv3,pad1-> 32 -pool-> 16 with padding 1.
CONV1 = conv(3, 16)  # 3*16*9 + 16 = 448
CONV2 = conv(16, 32)  # 16*32*9 + 32 = 4,640
HEAD = linear(64, NUM_CLASSES)  # 64*5 + 5 = 325
NET1 = CONV1 + CONV2 + linear(32 * 14 * 14, 64) + HEAD  # fc1 = 6272*64 + 64
NET2 = CONV1 + CONV2 + linear(32 * 16 * 16, 64) + HEAD  # fc1 = 8192*64 + 64
NET3 = NET2 + 10 * conv(32, 32)  # ten extra 32->32 convs: 10 * (32*32*9 + 32)
EXPECTED = {"HW4Net1": NET1, "HW4Net2": NET2, "HW4Net3": NET3}


def test_hand_derived_counts_match_the_reference() -> None:
    # The published parameter counts of the reference (README, ECE 60146 HW4).
    assert EXPECTED == {"HW4Net1": 406_885, "HW4Net2": 529_765, "HW4Net3": 622_245}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameter_count(name: str) -> None:
    model = build_network(name, NUM_CLASSES)
    assert count_parameters(model) == EXPECTED[name]
    assert sum(p.numel() for p in model.parameters()) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_output_shape_and_class_count(name: str) -> None:
    torch.manual_seed(0)
    model = build_network(name, NUM_CLASSES).eval()
    with torch.no_grad():
        out = model(torch.randn(3, 3, 64, 64))
    assert out.shape == (3, NUM_CLASSES)
    assert torch.isfinite(out).all()
    # The head follows num_classes: only the last layer's size changes.
    seven = build_network(name, 7)
    with torch.no_grad():
        assert seven(torch.randn(2, 3, 64, 64)).shape == (2, 7)
    assert count_parameters(seven) == EXPECTED[name] + 2 * 64 + 2


def test_unknown_network_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as err:
        build_network("HW4Net9", NUM_CLASSES)
    message = str(err.value)
    assert "HW4Net9" in message
    for name in ("HW4Net1", "HW4Net2", "HW4Net3"):
        assert name in message


def test_registry_unknown_network_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as err:
        network_source("ResNet50")
    assert "ResNet50" in str(err.value)
    assert all(name in str(err.value) for name in NETWORK_MODULES)


@pytest.mark.parametrize("name", sorted(NETWORK_MODULES))
def test_network_source_defines_the_class(name: str) -> None:
    path = network_source(name)
    assert path.is_file()
    assert path.suffix == ".py"
    tree = ast.parse(path.read_text())
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    assert name in classes
    # It is the very module build_network imports the class from.
    model = build_network(name, NUM_CLASSES)
    module = importlib.import_module(type(model).__module__)
    assert path.resolve() == Path(module.__file__).resolve()
