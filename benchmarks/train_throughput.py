"""Training throughput: the reference's per-item JPEG DataLoader vs. the project's engine.

Both train HW4Net1 for the same number of iterations at batch size 4 on the same images, with
the same maths (Adam lr 1e-3 betas 0.9/0.99, cross-entropy, random horizontal flips p=0.5,
grey conversion, normalisation 0.5/0.5). Prints samples/s for each and, last, the ratio.

    python benchmarks/train_throughput.py [--iterations 3000] [--images 2000] [--threads 2]

The iterations run as epochs over the images (3000 iterations = 6 epochs of 2000 images), as a
real training run would; each way's time includes its own set-up (worker start-up, or the
engine's one-off conversion of the split). One short untimed run of each way first takes the
process's one-off costs (lazy initialisation, oneDNN kernel generation) out of both timings.
The timed runs alternate between the two ways; each run prints its samples/s, its CPU time
per sample (this process plus the DataLoader workers) and the 1-minute load average, and the
ratio is that of the medians. Run it on a quiet machine: when other processes hold the cores,
the two OpenMP threads of each training loop wait for each other at every parallel operation
(spinning, with the default OMP_WAIT_POLICY), which inflates both wall and CPU time, the engine's
most (its loop is nothing but such operations); the printed load shows when that happened.
On a virtual machine the host can do the same without any load showing: on the project's 2-vCPU
VM, with nothing else running and no steal time, engine runs ranged from about 840 to 1,510
samples/s, most of them near one end or the other, while a compute-only probe on both vCPUs
kept its speed; compare runs, not a single one.
"""

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import configure_threads, train
from visionrepro.models import build_network

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


def head(data: ArrayDataset, n: int) -> ArrayDataset:
    """The first n images of a split."""
    return ArrayDataset(data.images[:n], data.labels[:n], data.ids[:n], data.classes)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the DataLoader workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def reference_run(files: list[Path], labels: list[int], iterations: int) -> None:
    """The reference loop (DataLoader with 2 workers, epoch after epoch)."""
    torch.manual_seed(0)
    model = build_network("HW4Net1", len(CLASSES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(JpegDataset(files, labels), batch_size=4, shuffle=True, num_workers=2)
    done = 0
    while done < iterations:
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            done += 1
            if done == iterations:
                break


def engine_run(data: ArrayDataset, iterations: int) -> None:
    """visionrepro.engine.training.train over the same number of iterations."""
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
    train("HW4Net1", data, head(data, 4), settings, seed=0, device=torch.device("cpu"))


def measure(run: Callable[[int, int], None], images: int, iterations: int) -> tuple[float, float]:
    """Samples/s and CPU milliseconds per sample of one run."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    run(images, iterations)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return 4 * iterations / wall, 1000 * cpu / (4 * iterations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs of each way")
    parser.add_argument("--threads", type=int, default=2, help="the training job's threads")
    args = parser.parse_args()
    configure_threads(args.threads)
    print(
        f"threads: {torch.get_num_threads()}  iterations: {args.iterations}  images: "
        f"{args.images}  batch size: 4",
        flush=True,
    )
    rates: dict[str, list[float]] = {"reference": [], "engine": []}
    cpu: dict[str, list[float]] = {"reference": [], "engine": []}
    with tempfile.TemporaryDirectory() as tmp:
        data, files = make_data(args.images, Path(tmp))
        labels = data.labels.tolist()
        ways = {
            "reference": lambda n, k: reference_run(files[:n], labels[:n], k),
            "engine": lambda n, k: engine_run(head(data, n), k),
        }
        warm_up = 4 * min(args.images // 4, 100)
        for run in ways.values():
            run(warm_up, warm_up // 4)
        for i in range(1, args.repeats + 1):
            for name, run in ways.items():
                rate, ms = measure(run, args.images, args.iterations)
                rates[name].append(rate)
                cpu[name].append(ms)
                print(
                    f"run {i} {name}: {rate:.0f} samples/s, {ms:.2f} CPU ms/sample, "
                    f"load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
    ref, eng = statistics.median(rates["reference"]), statistics.median(rates["engine"])
    ref_cpu, eng_cpu = statistics.median(cpu["reference"]), statistics.median(cpu["engine"])
    print(
        f"reference (PIL JPEG per item + DataLoader, 2 workers): {ref:.0f} samples/s, "
        f"{ref_cpu:.2f} CPU ms/sample (medians)"
    )
    print(
        f"engine (visionrepro.engine.training): {eng:.0f} samples/s, "
        f"{eng_cpu:.2f} CPU ms/sample (medians)"
    )
    print(
        f"best runs: reference {max(rates['reference']):.0f}, engine {max(rates['engine']):.0f} "
        f"samples/s, ratio {max(rates['engine']) / max(rates['reference']):.2f} (on a shared "
        "VM the best run is the stable figure: the host's placement halves some runs)"
    )
    print(f"CPU time per sample, reference / engine: {ref_cpu / eng_cpu:.2f}")
    print(f"ratio: {eng / ref:.2f}")


if __name__ == "__main__":
    main()
