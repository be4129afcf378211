"""Training losses: cross-entropy, NLL (for networks ending in log_softmax), and the soft IoU loss
of the CSC413 write-up for many classes."""

from collections.abc import Callable

from torch import Tensor, nn
from torch.nn import functional as F

LOSSES = ("cross_entropy", "nll", "soft_iou")


def soft_iou_loss(logits: Tensor, target: Tensor, eps: float = 1e-6) -> Tensor:
    """Mean over classes of 1 - soft intersection / soft union, over the whole batch.

    With p the softmax probability of a class and g its one-hot truth, per pixel:
    intersection p*g, union p + g - p*g (the write-up's loss, for each class in turn).
    """
    probs = logits.softmax(dim=1)
    onehot = F.one_hot(target, probs.shape[1]).movedim(-1, 1).to(probs.dtype)
    dims = (0, *range(2, probs.ndim))
    intersection = (probs * onehot).sum(dims)
    union = (probs + onehot - probs * onehot).sum(dims)
    return (1 - intersection / (union + eps)).mean()


def make_loss(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    """The loss called `name` (one of LOSSES)."""
    if name == "cross_entropy":
        return nn.CrossEntropyLoss()
    if name == "nll":
        return nn.NLLLoss()
    if name == "soft_iou":
        return soft_iou_loss
    raise ValueError(f"unknown loss {name!r}; known: {LOSSES}")
