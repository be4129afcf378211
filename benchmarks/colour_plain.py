"""The CSC413 colourization recipe written plainly, apart from the library, to check the
pipeline's colourization against (docs/differences.md).

    python benchmarks/colour_plain.py DATA_DIR PALETTE NETWORK SEED
        [--pipeline-order] [--pipeline-init]
    e.g. python benchmarks/colour_plain.py data/cifar10/packed \\
             results/palettes/cifar10_colour/seed0.npz UNet 0

In the write-up's style: the training horses as float arrays in [0, 1] permuted once, grey input
the mean of R, G and B, targets the nearest palette colour, NCHW tensors, unfused Adam (lr 1e-3),
batches of 100 in the same order every epoch, 25 epochs, the test horses scored in eval mode
after each epoch (printed). It shares with the pipeline only the packed data and the palette
file, so a difference in the scores is the training's, not the data's. ConvTransposeNet or UNet.

The pipeline's random draws instead of its own: `--pipeline-order` permutes with `torch.randperm`
from a generator seeded with SEED (as `shuffle: once`); `--pipeline-init` makes UNet concatenate
in the library's order, so that its initial weights are the same tensors as the pipeline's run
of SEED. With both only the implementation differs from that run; with `--pipeline-init` alone,
the batch order.
"""

import argparse
import time

import numpy as np
import torch
from torch import Tensor, nn

FILTERS, KERNEL, EPOCHS, BATCH = 32, 3, 25, 100


def horses(data_dir: str, split: str) -> np.ndarray:
    """The horses of a packed split as float32 N x 3 x 32 x 32 in [0, 1]."""
    with np.load(f"{data_dir}/{split}.npz") as data:
        horse = list(data["classes"]).index("horse")
        return data["images"][data["labels"] == horse].astype(np.float32) / 255


def nearest(images: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """Each pixel's nearest palette colour (index), N x H x W."""
    out = []
    for i in range(0, len(images), 500):
        d = ((images[i : i + 500, None] - colors[None, :, :, None, None]) ** 2).sum(axis=2)
        out.append(d.argmin(axis=1))
    return np.concatenate(out)


def block(layer: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(layer, nn.BatchNorm2d(channels), nn.ReLU())


class Net(nn.Module):
    """ConvTransposeNet, or with `skips` UNet, as the write-up builds them."""

    def __init__(self, colors: int, skips: bool, library_order: bool = False) -> None:
        super().__init__()
        self.library_order = library_order
        nf, k = FILTERS, KERNEL
        self.skips = skips
        self.layer1 = block(nn.Conv2d(1, nf, k, stride=2, padding=1), nf)
        self.layer2 = block(nn.Conv2d(nf, 2 * nf, k, stride=2, padding=1), 2 * nf)
        self.layer3 = block(nn.ConvTranspose2d(2 * nf, nf, k, 2, 1, output_padding=1), nf)
        c_in = 2 * nf if skips else nf
        self.layer4 = block(nn.ConvTranspose2d(c_in, colors, k, 2, 1, output_padding=1), colors)
        self.layer5 = nn.Conv2d(colors + 1 if skips else colors, colors, k, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        out1 = self.layer1(x)
        out3 = self.layer3(self.layer2(out1))
        if not self.skips:
            return self.layer5(self.layer4(out3))
        if self.library_order:
            out4 = self.layer4(torch.cat((out1, out3), dim=1))
            return self.layer5(torch.cat((x, out4), dim=1))
        out4 = self.layer4(torch.cat((out3, out1), dim=1))
        return self.layer5(torch.cat((out4, x), dim=1))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("palette")
    parser.add_argument("network", choices=["ConvTransposeNet", "UNet"])
    parser.add_argument("seed", type=int)
    parser.add_argument("--pipeline-order", action="store_true")
    parser.add_argument("--pipeline-init", action="store_true")
    return parser.parse_args()


def prepare(
    train_rgb: np.ndarray,
    test_rgb: np.ndarray,
    colors: np.ndarray,
    seed: int,
    pipeline_order: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train grey, train targets, test grey, test targets), the training horses permuted once."""
    if pipeline_order:
        generator = torch.Generator().manual_seed(seed)
        train_rgb = train_rgb[torch.randperm(len(train_rgb), generator=generator).numpy()]
    else:
        np.random.shuffle(train_rgb)
    grey = (train_rgb.mean(1, keepdims=True), test_rgb.mean(1, keepdims=True))
    return grey[0], nearest(train_rgb, colors), grey[1], nearest(test_rgb, colors)


def train_plain(
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    model: nn.Module,
    epochs: int = EPOCHS,
    batch: int = BATCH,
    engine_layout: bool = False,
) -> list[float]:
    """Train `model` on prepared `data` (see `prepare`); the test pixel accuracy of each epoch.

    `engine_layout` runs the same maths with the engine's arithmetic: channels-last tensors and
    fused Adam (floating-point results then match the engine's bit for bit on any CPU; in the
    write-up's NCHW with unfused Adam they differ by rounding, which Adam steps amplify)."""
    train_x, train_y, test_x, test_y = data
    layout = torch.channels_last if engine_layout else torch.contiguous_format
    model.to(memory_format=layout)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=engine_layout or None)
    start, scores = time.time(), []
    for epoch in range(1, epochs + 1):
        model.train()
        for i in range(0, len(train_x), batch):
            optimizer.zero_grad()
            x = torch.from_numpy(train_x[i : i + batch]).contiguous(memory_format=layout)
            loss = criterion(model(x), torch.from_numpy(train_y[i : i + batch]).long())
            loss.backward()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(test_x), batch):
                x = torch.from_numpy(test_x[i : i + batch]).contiguous(memory_format=layout)
                predicted = model(x).argmax(1)
                correct += (predicted == torch.from_numpy(test_y[i : i + batch])).sum().item()
        scores.append(100 * correct / test_y.size)
        print(f"epoch {epoch} test pixel accuracy {scores[-1]:.2f} ({time.time() - start:.0f} s)")
    return scores


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    with np.load(args.palette) as data:
        colors = data["palette"]
    train_rgb, test_rgb = horses(args.data_dir, "train"), horses(args.data_dir, "test")
    data = prepare(train_rgb, test_rgb, colors, args.seed, args.pipeline_order)
    model = Net(len(colors), skips=args.network == "UNet", library_order=args.pipeline_init)
    train_plain(data, model)


if __name__ == "__main__":
    main()
