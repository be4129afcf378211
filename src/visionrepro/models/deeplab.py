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


def pretrained_state(weights_path: str = "", weights_dir: str | None = None) -> dict[str, Tensor]:
    """The pretrained weights: from `weights_path` if set, else torchvision's download."""
    if weights_path:
        try:
            return torch.load(weights_path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError) as err:
            raise UserError(
                f"weights_path: cannot read DeepLabV3 weights from {weights_path!r} ({err}); "
                f"point it at a copy of {WEIGHTS.url}"
            ) from err
    log.info("DeepLabV3 weights: torchvision's download of %s into %s", WEIGHTS.url, weights_dir)
    try:
        return WEIGHTS.get_state_dict(progress=False, model_dir=weights_dir, check_hash=True)
    except (urllib.error.URLError, OSError, RuntimeError) as err:
        raise UserError(
            f"cannot download the DeepLabV3 weights ({WEIGHTS.url}: {err}); set the experiment's "
            f"weights_path to a local copy of {Path(WEIGHTS.url).name}, or pretrained: false"
        ) from err


class DeepLabV3Head(nn.Module):
    """DeepLabV3-ResNet50 whose `classifier[4]` is a new Conv2d(256, classes, 1), the only part
    trained: the rest is frozen (no gradients, BatchNorm statistics kept in eval mode)."""

    def __init__(
        self,
        num_classes: int = 6,
        in_channels: int = 3,
        pretrained: bool = False,
        weights_path: str = "",
        weights_dir: str | None = None,
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
        if pretrained or weights_path:
            model.load_state_dict(pretrained_state(weights_path, weights_dir))
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
