"""The three CNNs of the COCO-64 reference (ECE 60146 HW4), for 3x64x64 inputs."""

from torch import Tensor, nn


class HW4Net1(nn.Module):
    """conv(3->16) pool conv(16->32) pool fc(6272->64) fc(64->classes); no padding."""

    def __init__(self, num_classes: int = 5, padding: int = 0, extra_convs: int = 0) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=padding),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 32, 3, padding=padding),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
        )
        extra: list[nn.Module] = []
        for _ in range(extra_convs):
            extra += [nn.Conv2d(32, 32, 3, padding=1), nn.ReLU()]
        self.extra = nn.Sequential(*extra)
        side = 16 if padding == 1 else 14
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * side * side, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.extra(self.features(x)))


class HW4Net2(HW4Net1):
    """HW4Net1 with padding 1 in both convs: fc(8192->64)."""

    def __init__(self, num_classes: int = 5) -> None:
        super().__init__(num_classes, padding=1)


class HW4Net3(HW4Net1):
    """HW4Net2 plus ten conv(32->32, k3, padding 1)+ReLU layers after the second pool."""

    def __init__(self, num_classes: int = 5) -> None:
        super().__init__(num_classes, padding=1, extra_convs=10)
