"""Tests for the networks (HW4Net, segmentation nets), build_network and the registry."""

import ast
import importlib
from pathlib import Path

import pytest
import torch

from visionrepro.models import build_network, count_parameters
from visionrepro.networks import parse_network
from visionrepro.registry import NETWORKS

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
        parse_network("ResNet50").source_file()
    assert "ResNet50" in str(err.value)
    assert all(name in str(err.value) for name in NETWORKS)


@pytest.mark.parametrize("name", sorted(set(NETWORKS) - {"deeplabv3"}))
def test_network_source_defines_the_class(name: str) -> None:
    path = parse_network(name).source_file()
    assert path.is_file()
    assert path.suffix == ".py"
    tree = ast.parse(path.read_text())
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    assert NETWORKS[name].cls in classes
    # It is the very module build_network imports the class from.
    model = build_network(name, NUM_CLASSES)
    module = importlib.import_module(type(model).__module__)
    assert path.resolve() == Path(module.__file__).resolve()


# Segmentation nets (CSC413 write-up): kernel 3, NF = 32 filters, 3 input channels, NC = 6
# classes (background + 5). Every block is conv (or transposed conv) + BatchNorm (2 x channels).
NF, NC = 32, 6


def bn(c: int) -> int:
    """BatchNorm's weight and bias."""
    return 2 * c


def block(c_in: int, c_out: int) -> int:
    """A 3x3 conv (or transposed conv: as many weights) followed by BatchNorm."""
    return conv(c_in, c_out) + bn(c_out)


# Blocks 1-3: (3->32) + (32->64) + (64->32) = 960 + 18,624 + 18,528 = 38,112.
ENCODER = block(3, NF) + block(NF, 2 * NF) + block(2 * NF, NF)
# Block 4 (32->6) = 1,746 and the final conv(6->6) = 330: 40,188.
POOL_UPSAMPLE = ENCODER + block(NF, NC) + conv(NC, NC)
# UNet: block 4 takes cat(block 1, block 3) = 64 channels (64*6*9+6 + 12 = 3,474), the final
# conv cat(x, block 4) = 9 channels (9*6*9+6 = 492): 42,078.
UNET = ENCODER + block(2 * NF, NC) + conv(3 + NC, NC)
SEGMENTATION = {"PoolUpsampleNet": POOL_UPSAMPLE, "ConvTransposeNet": POOL_UPSAMPLE, "UNet": UNET}


def test_hand_derived_segmentation_counts() -> None:
    assert SEGMENTATION == {
        "PoolUpsampleNet": 40_188,
        "ConvTransposeNet": 40_188,
        "UNet": 42_078,
    }


@pytest.mark.parametrize("name", sorted(SEGMENTATION))
def test_segmentation_net_counts_and_shapes(name: str) -> None:
    torch.manual_seed(0)
    model = build_network(name, NC)
    assert count_parameters(model) == SEGMENTATION[name]
    with torch.no_grad():
        out = model.eval()(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, NC, 64, 64)
    assert torch.isfinite(out).all()
    # The colourization set-up of the write-up: grey in, 24 colours out, 32x32.
    color = build_network(name, 24, in_channels=1)
    with torch.no_grad():
        assert color.eval()(torch.randn(2, 1, 32, 32)).shape == (2, 24, 32, 32)


def test_unet_skips_set_the_channels_of_block_four_and_the_final_conv() -> None:
    unet, plain = build_network("UNet", NC), build_network("ConvTransposeNet", NC)
    assert (unet.up2[0].in_channels, unet.final.in_channels) == (2 * NF, 3 + NC)
    assert (plain.up2[0].in_channels, plain.final.in_channels) == (NF, NC)
