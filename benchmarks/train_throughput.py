"""Training throughput: the reference's per-item JPEG DataLoader vs. the project's engine.

Both train HW4Net1 for the same number of iterations at batch size 4 on the same images, with
the same maths (Adam lr 1e-3 betas 0.9/0.99, cross-entropy, random horizontal flips p=0.5,
grey conversion, normalisation 0.5/0.5). Prints samples/s for each and, last, the ratio.

    python benchmarks/train_throughput.py [--iterations 1500] [--threads 2]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from visionrepro.datasets import ArrayDataset
from visionrepro.models import build_network
from visionrepro.training import TrainSettings, configure_threads, train

CLASSES = ("boat", "cake", "couch", "dog", "motorcycle")


class JpegDataset(Dataset):
    """The reference's way: open one JPEG with PIL per item, then torchvision transforms."""

    def __init__(self, files: list[Path], labels: list[int]) -> None:
        self.files, self.labels = files, labels
        self.transform = transforms.Compose(
            [
                transforms.ToTensor(),
                transforms.RandomHorizontalFlip(0.5),
                transforms.Grayscale(num_output_channels=3),
                transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
            ]
        )

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.open(self.files[i]).convert("RGB")), self.labels[i]


def make_data(n: int, folder: Path, seed: int = 0) -> tuple[ArrayDataset, list[Path]]:
    """n random 64x64 images, as an ArrayDataset and as JPEG files with the same pixels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), n)
    images = rng.integers(0, 256, (n, 3, 64, 64), dtype=np.uint8)
    files = []
    for i, img in enumerate(images):
        path = folder / f"{i:06d}.jpg"
        Image.fromarray(img.transpose(1, 2, 0)).save(path, quality=90)
        files.append(path)
    return ArrayDataset(images, labels, np.arange(n), CLASSES), files


def reference_rate(files: list[Path], labels: list[int], iterations: int) -> float:
    """Samples/s of the reference loop (DataLoader with 2 workers)."""
    torch.manual_seed(0)
    model = build_network("HW4Net1", len(CLASSES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(JpegDataset(files, labels), batch_size=4, shuffle=True, num_workers=2)
    started = time.perf_counter()
    for it, (x, y) in enumerate(loader):
        if it == iterations:
            break
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return iterations * 4 / (time.perf_counter() - started)


def engine_rate(data: ArrayDataset, iterations: int) -> float:
    """Samples/s of visionrepro.training.train for one epoch of `iterations` batches."""
    settings = TrainSettings(
        epochs=1, batch_size=4, lr=1e-3, betas=(0.9, 0.99), hflip=0.5, color="gray", log_every=10**9
    )
    n = iterations * 4
    part = ArrayDataset(data.images[:n], data.labels[:n], data.ids[:n], data.classes)
    val = ArrayDataset(data.images[:4], data.labels[:4], data.ids[:4], data.classes)
    started = time.perf_counter()
    train("HW4Net1", part, val, settings, seed=0, device=torch.device("cpu"))
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=2, help="the training job's threads")
    args = parser.parse_args()
    configure_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data, files = make_data(args.iterations * 4, Path(tmp))
        ref = reference_rate(files, data.labels.tolist(), args.iterations)
        eng = engine_rate(data, args.iterations)
    print(f"threads: {torch.get_num_threads()}  iterations: {args.iterations}  batch size: 4")
    print(f"reference (PIL JPEG per item + DataLoader, 2 workers): {ref:.0f} samples/s")
    print(f"engine (visionrepro.training): {eng:.0f} samples/s")
    print(f"ratio: {eng / ref:.2f}")


if __name__ == "__main__":
    main()
