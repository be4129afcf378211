"""torchvision's DeepLabV3 (ResNet-50) with a new last layer, trained head-only (CSC413 style)."""

import logging
import urllib.error
from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models.segmentation import DeepLabV3_ResNet50_Weights, deeplabv3_resnet50

from visionrepro.errors import UserError

log = logging.getLogger(__name__)

WEIGHTS = DeepLabV3_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1
HEAD_CHANNELS = 256


def download_weights(dest: Path) -> None:
    """torchvision's download of the pretrained weights to `dest` (named as in WEIGHTS.url)."""
    if dest.name != Path(WEIGHTS.url).name:
        raise ValueError(f"{dest} must be named {Path(WEIGHTS.url).name}")
    log.info("downloading %s into %s", WEIGHTS.url, dest.parent)
    try:
        WEIGHTS.get_state_dict(progress=False, model_dir=str(dest.parent), check_hash=True)
    except (urllib.error.URLError, OSError, RuntimeError) as err:
        raise UserError(
            f"cannot download the DeepLabV3 weights ({WEIGHTS.url}: {err}); set the experiment's "
            f"weights_path to a local copy of {dest.name}, or pretrained: false"
        ) from err


def load_weights(path: str) -> dict[str, Tensor]:
    """The pretrained weights from a local copy of torchvision's file."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as err:
        raise UserError(
            f"weights_path: cannot read DeepLabV3 weights from {path!r} ({err}); "
            f"point it at a copy of {WEIGHTS.url}"
        ) from err


class DeepLabV3Head(nn.Module):
    """DeepLabV3-ResNet50 whose `classifier[4]` is a new Conv2d(256, classes, 1), the only part
    trained: the rest is frozen (no gradients, BatchNorm statistics kept in eval mode).

    `weights_path`: torchvision's pretrained weights file; without it the network is random
    (for tests of the plumbing)."""

    def __init__(
        self,
        num_classes: int = 6,
        in_channels: int = 3,
        weights_path: str = "",
    ) -> None:
        super().__init__()
        if in_channels != 3:
            raise ValueError(f"deeplabv3 takes 3 input channels, not {in_channels}")
        model = deeplabv3_resnet50(
            weights=None,
            weights_backbone=None,
            num_classes=len(WEIGHTS.meta["categories"]),
            aux_loss=True,
        )
        if weights_path:
            model.load_state_dict(load_weights(weights_path))
        model.aux_classifier = None
        model.requires_grad_(False)
        model.classifier[4] = nn.Conv2d(HEAD_CHANNELS, num_classes, 1)
        self.model = model

    def train(self, mode: bool = True) -> "DeepLabV3Head":
        """Only the new head follows `mode`; the frozen network stays in eval mode."""
        super().train(False)
        self.model.classifier[4].train(mode)
        self.training = mode
        return self

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)["out"]
