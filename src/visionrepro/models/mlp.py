"""The fully connected networks of the MNIST (DS 5220) and Fashion-MNIST (Adelaide) write-ups."""

from collections.abc import Sequence

from torch import Tensor, nn
from torch.nn import functional as F


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Flatten, then Linear layers of `sizes` with a ReLU between each two."""
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class MnistMLP(nn.Module):
    """Flatten, Linear(784, 128), ReLU, Linear(128, classes), log_softmax (for NLL)."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.layers = _mlp([784, 128, num_classes])

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(self.layers(x), dim=1)


class FashionMLP(nn.Module):
    """The base MLP 784-256-512-classes with ReLUs (logits, for cross-entropy)."""

    hidden: tuple[int, ...] = (256, 512)

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.layers = _mlp([784, *self.hidden, num_classes])

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class FashionMLPDeeper(FashionMLP):
    """784-256-512-1024-2048-classes."""

    hidden = (256, 512, 1024, 2048)


class FashionMLPWider(FashionMLP):
    """784-1024-2048-classes."""

    hidden = (1024, 2048)
