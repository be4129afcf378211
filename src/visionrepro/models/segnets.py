"""The small encoder-decoder CNNs of the CSC413/2516 write-up, for dense per-pixel classification.

All use kernel 3 with `padding = kernel // 2` and `filters` (NF) filters; the input's side must
be divisible by 4. Each block ends in BatchNorm and ReLU, and a last conv(NC->NC) maps to logits.
"""

import torch
from torch import Tensor, nn

KERNEL = 3
PAD = KERNEL // 2


def _block(*layers: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(*layers, nn.BatchNorm2d(channels), nn.ReLU())


def _down(c_in: int, c_out: int) -> nn.Sequential:
    """A stride-2 convolution, then BN and ReLU."""
    return _block(nn.Conv2d(c_in, c_out, KERNEL, stride=2, padding=PAD), channels=c_out)


def _up(c_in: int, c_out: int) -> nn.Sequential:
    """A stride-2 transposed convolution (output_padding 1: doubles the side), then BN and ReLU."""
    return _block(
        nn.ConvTranspose2d(c_in, c_out, KERNEL, stride=2, padding=PAD, output_padding=1),
        channels=c_out,
    )


class PoolUpsampleNet(nn.Module):
    """[conv maxpool BN relu] x2 down, [conv upsample BN relu] x2 up, conv(NC->NC)."""

    def __init__(self, num_classes: int = 6, in_channels: int = 3, filters: int = 32) -> None:
        super().__init__()
        nf, nc = filters, num_classes

        def pool(c_in: int, c_out: int) -> nn.Sequential:
            return _block(
                nn.Conv2d(c_in, c_out, KERNEL, padding=PAD), nn.MaxPool2d(2), channels=c_out
            )

        def upsample(c_in: int, c_out: int) -> nn.Sequential:
            return _block(
                nn.Conv2d(c_in, c_out, KERNEL, padding=PAD),
                nn.Upsample(scale_factor=2),
                channels=c_out,
            )

        self.layers = nn.Sequential(
            pool(in_channels, nf),
            pool(nf, 2 * nf),
            upsample(2 * nf, nf),
            upsample(nf, nc),
            nn.Conv2d(nc, nc, KERNEL, padding=PAD),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class ConvTransposeNet(nn.Module):
    """PoolUpsampleNet's shape with stride-2 convs down and stride-2 transposed convs up."""

    def __init__(
        self, num_classes: int = 6, in_channels: int = 3, filters: int = 32, skips: bool = False
    ) -> None:
        super().__init__()
        nf, nc = filters, num_classes
        self.skips = skips
        self.down1 = _down(in_channels, nf)
        self.down2 = _down(nf, 2 * nf)
        self.up1 = _up(2 * nf, nf)
        self.up2 = _up(2 * nf if skips else nf, nc)
        self.final = nn.Conv2d(in_channels + nc if skips else nc, nc, KERNEL, padding=PAD)

    def forward(self, x: Tensor) -> Tensor:
        first = self.down1(x)
        third = self.up1(self.down2(first))
        if not self.skips:
            return self.final(self.up2(third))
        fourth = self.up2(torch.cat([first, third], dim=1))
        return self.final(torch.cat([x, fourth], dim=1))


class UNet(ConvTransposeNet):
    """ConvTransposeNet with skips: block 4 takes cat(block 1, block 3), the last conv cat(x, 4)."""

    def __init__(self, num_classes: int = 6, in_channels: int = 3, filters: int = 32) -> None:
        super().__init__(num_classes, in_channels, filters, skips=True)
