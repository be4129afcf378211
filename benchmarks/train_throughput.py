"""Training throughput: the reference's per-item JPEG DataLoader vs. the project's engine.

Both train HW4Net1 for the same number of iterations at batch size 4 on the same images, with
the same maths (Adam lr 1e-3 betas 0.9/0.99, cross-entropy, random horizontal flips p=0.5,
grey conversion, normalisation 0.5/0.5). Prints samples/s for each and, last, the ratio.

    python benchmarks/train_throughput.py [--iterations 3000] [--images 2000] [--threads 2]

The iterations run as epochs over the images (3000 iterations = 6 epochs of 2000 images), as a
real training run would; each way's time includes its own set-up (worker start-up, or the
engine's one-off conversion of the split).
"""

import argparse
import statistics
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
    """n photo-like 64x64 images (smooth blobs plus noise), in memory and as JPEG files."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), n)
    coarse = rng.integers(0, 256, (n, 3, 8, 8)).repeat(8, axis=2).repeat(8, axis=3)
    noise = rng.integers(-12, 13, (n, 3, 64, 64))
    images = np.clip(coarse + noise, 0, 255).astype(np.uint8)
    files = []
    for i, img in enumerate(images):
        path = folder / f"{i:06d}.jpg"
        Image.fromarray(img.transpose(1, 2, 0)).save(path, quality=90)
        files.append(path)
    data = ArrayDataset(
        np.stack([np.asarray(Image.open(f)).transpose(2, 0, 1) for f in files]),
        labels,
        np.arange(n),
        CLASSES,
    )
    return data, files


def reference_rate(files: list[Path], labels: list[int], iterations: int) -> float:
    """Samples/s of the reference loop (DataLoader with 2 workers, epoch after epoch)."""
    torch.manual_seed(0)
    model = build_network("HW4Net1", len(CLASSES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(JpegDataset(files, labels), batch_size=4, shuffle=True, num_workers=2)
    started, done = time.perf_counter(), 0
    while done < iterations:
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            done += 1
            if done == iterations:
                break
    return iterations * 4 / (time.perf_counter() - started)


def engine_rate(data: ArrayDataset, iterations: int) -> float:
    """Samples/s of visionrepro.training.train over the same number of iterations."""
    epochs, rest = divmod(iterations * 4, len(data))
    if rest:
        raise SystemExit("--iterations x 4 must be a multiple of --images")
    settings = TrainSettings(
        epochs=epochs,
        batch_size=4,
        lr=1e-3,
        betas=(0.9, 0.99),
        hflip=0.5,
        color="gray",
        log_every=10**9,
    )
    val = ArrayDataset(data.images[:4], data.labels[:4], data.ids[:4], data.classes)
    started = time.perf_counter()
    train("HW4Net1", data, val, settings, seed=0, device=torch.device("cpu"))
    return iterations * 4 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each way")
    parser.add_argument("--threads", type=int, default=2, help="the training job's threads")
    args = parser.parse_args()
    configure_threads(args.threads)
    print(
        f"threads: {torch.get_num_threads()}  iterations: {args.iterations}  images: "
        f"{args.images}  batch size: 4"
    )
    refs, engines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        data, files = make_data(args.images, Path(tmp))
        for _ in range(args.repeats):
            refs.append(reference_rate(files, data.labels.tolist(), args.iterations))
            engines.append(engine_rate(data, args.iterations))
            print(f"reference {refs[-1]:.0f} samples/s, engine {engines[-1]:.0f} samples/s")
    ref, eng = statistics.median(refs), statistics.median(engines)
    print(f"reference (PIL JPEG per item + DataLoader, 2 workers): {ref:.0f} samples/s (median)")
    print(f"engine (visionrepro.training): {eng:.0f} samples/s (median)")
    print(f"ratio: {eng / ref:.2f}")


if __name__ == "__main__":
    main()
