"""Small classification CNNs: the MNIST CNN (DS 5220) and the CIFAR-10 ladder CNN (USI)."""

from torch import Tensor, nn
from torch.nn import functional as F


class MnistCNN(nn.Module):
    """Conv(1,10,5) ReLU MaxPool2, Conv(10,20,5) ReLU MaxPool2, Linear(320,128), Linear(128,C).

    There is no activation between the two linear layers, as in the write-up; the output is
    log_softmax (for NLL).
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 10, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(10, 20, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(320, 128), nn.Linear(128, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(self.classifier(self.features(x)), dim=1)


class CifarCNN(nn.Module):
    """[Conv(k3, p1) ReLU MaxPool2] x3 (16, 32, 64 filters), Linear(1024,500) ReLU, Linear(500,C).

    The ladder's options: `dropout` after the last pool and after fc1, `bias=False` everywhere,
    `batchnorm` after each conv's ReLU.
    """

    def __init__(
        self,
        num_classes: int = 10,
        dropout: float = 0.0,
        bias: bool = True,
        batchnorm: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out in ((3, 16), (16, 32), (32, 64)):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias), nn.ReLU()]
            if batchnorm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(1024, 500, bias=bias),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(500, num_classes, bias=bias),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
