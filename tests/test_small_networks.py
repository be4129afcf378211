"""Parameter counts and shapes of the MNIST, Fashion-MNIST and CIFAR-10 networks."""

import pytest
import torch
from test_models import conv, linear

from visionrepro.models import build_network, count_parameters

# MNIST (DS 5220): MLP 784-128-10; CNN conv(1,10,5) 28->24 pool 12, conv(10,20,5) 12->8 pool 4,
# so 20 * 4 * 4 = 320 features.
MNIST_MLP = linear(784, 128) + linear(128, 10)
MNIST_CNN = conv(1, 10, 5) + conv(10, 20, 5) + linear(320, 128) + linear(128, 10)


def mlp(*sizes: int) -> int:
    return sum(linear(a, b) for a, b in zip(sizes, sizes[1:], strict=False))


# Fashion-MNIST (Adelaide): base, deeper and wider MLPs.
FASHION = {
    "FashionMLP": mlp(784, 256, 512, 10),
    "FashionMLPDeeper": mlp(784, 256, 512, 1024, 2048, 10),
    "FashionMLPWider": mlp(784, 1024, 2048, 10),
}
# CIFAR-10 (USI): 32 -> 16 -> 8 -> 4 after three pools, 64 * 4 * 4 = 1024 features.
CIFAR = conv(3, 16) + conv(16, 32) + conv(32, 64) + linear(1024, 500) + linear(500, 10)
BIASES = 16 + 32 + 64 + 500 + 10
BATCHNORM = 2 * (16 + 32 + 64)
EXPECTED = {"MnistMLP": MNIST_MLP, "MnistCNN": MNIST_CNN, **FASHION, "CifarCNN": CIFAR}
SHAPES = {"MnistMLP": (1, 28, 28), "MnistCNN": (1, 28, 28), "CifarCNN": (3, 32, 32)}


def test_hand_derived_counts_match_the_write_ups() -> None:
    assert EXPECTED == {
        "MnistMLP": 101_770,
        "MnistCNN": 47_658,
        "FashionMLP": 337_674,
        "FashionMLPDeeper": 2_977_546,
        "FashionMLPWider": 2_923_530,
        "CifarCNN": 541_094,
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameter_count_and_output_shape(name: str) -> None:
    torch.manual_seed(0)
    model = build_network(name, 10).eval()
    assert count_parameters(model) == EXPECTED[name]
    with torch.no_grad():
        out = model(torch.randn(4, *SHAPES.get(name, (1, 28, 28))))
    assert out.shape == (4, 10) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["MnistMLP", "MnistCNN"])
def test_mnist_networks_output_log_probabilities(name: str) -> None:
    with torch.no_grad():
        out = build_network(name, 10).eval()(torch.randn(3, 1, 28, 28))
    assert torch.allclose(out.exp().sum(1), torch.ones(3), atol=1e-5)


def test_mnist_cnn_has_no_activation_between_its_linear_layers() -> None:
    classifier = build_network("MnistCNN", 10).classifier
    assert [type(m).__name__ for m in classifier] == ["Flatten", "Linear", "Linear"]


def test_cifar_ladder_options() -> None:
    assert count_parameters(build_network("CifarCNN", 10, bias=False)) == CIFAR - BIASES
    rung = build_network("CifarCNN", 10, dropout=0.5, bias=False, batchnorm=True)
    assert count_parameters(rung) == CIFAR - BIASES + BATCHNORM
    kinds = [type(m).__name__ for m in rung.features]
    assert kinds == ["Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d"] * 3  # BN after each ReLU
    dropouts = [m.p for m in rung.classifier if isinstance(m, torch.nn.Dropout)]
    assert dropouts == [0.5, 0.5]  # after the last pool (before fc1) and after fc1
    assert not any(
        m.bias is not None
        for m in rung.modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    )
