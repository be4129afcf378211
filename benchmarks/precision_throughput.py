"""Training throughput in fp32 and bf16 (train.precision) through the engine, on the CPU.

    python benchmarks/precision_throughput.py [--repeats 5] [--threads 1] [--images 512]

Two networks at their experiments' batch sizes: HW4Net1 (classification, batch 4, 64x64 grey)
and UNet (segmentation, batch 16, 64x64 RGB). Each run is `visionrepro.engine.training.train` for
`--epochs` epochs on the same synthetic images; one short untimed run of each way first takes the
process's one-off costs (oneDNN kernel generation) out of the timings. The timed runs alternate
fp32 and bf16 in one process (the VM's speed swings from run to run), and the table gives each
way's best and median samples/s. The last line is `ratio: X`, the smaller of the two networks'
bf16/fp32 ratios of medians.
"""

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np
import torch

from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import configure_threads, train

CPU = torch.device("cpu")
CLASSES = ("boat", "cake", "couch", "dog", "motorcycle")
NETWORKS = {
    "HW4Net1": TrainSettings(epochs=1, batch_size=4, lr=1e-3, color="gray", log_every=10**9),
    "UNet": TrainSettings(epochs=1, batch_size=16, lr=1e-3, task="segmentation", log_every=10**9),
}


def images(n: int, seed: int = 0) -> ArrayDataset:
    """n 64x64 RGB images with labels and masks (values 0..5)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(CLASSES)
    coarse = rng.integers(0, 256, (n, 3, 8, 8)).repeat(8, axis=2).repeat(8, axis=3)
    masks = (coarse[:, 0] // 43).astype(np.uint8)
    return ArrayDataset(
        coarse.astype(np.uint8),
        labels,
        np.arange(n),
        CLASSES,
        masks=masks,
        mask_names=("background", *CLASSES),
    )


def samples_per_second(network: str, data: ArrayDataset, settings: TrainSettings) -> float:
    """One training run's rate (its set-up included, as a real run's)."""
    start = time.perf_counter()
    train(network, data, data.take(slice(16)), settings, seed=0, device=CPU)
    return len(data) * settings.epochs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs of each way")
    parser.add_argument("--threads", type=int, default=1, help="the training job's threads")
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    configure_threads(args.threads)
    data = images(args.images)
    ratios = []
    print(f"threads: {torch.get_num_threads()}  images: {args.images}  epochs: {args.epochs}")
    for network, base in NETWORKS.items():
        ways = {p: replace(base, precision=p, epochs=args.epochs) for p in ("fp32", "bf16")}
        for settings in ways.values():
            samples_per_second(network, data.take(slice(64)), replace(settings, epochs=1))
        rates: dict[str, list[float]] = {p: [] for p in ways}
        for i in range(1, args.repeats + 1):
            for precision, settings in ways.items():
                rates[precision].append(samples_per_second(network, data, settings))
                print(
                    f"{network} run {i} {precision}: {rates[precision][-1]:.0f} samples/s",
                    flush=True,
                )
        fp32, bf16 = (statistics.median(rates[p]) for p in ("fp32", "bf16"))
        ratios.append(bf16 / fp32)
        print(
            f"{network} (batch {base.batch_size}): fp32 best {max(rates['fp32']):.0f} median "
            f"{fp32:.0f}, bf16 best {max(rates['bf16']):.0f} median {bf16:.0f} samples/s; "
            f"bf16/fp32 {bf16 / fp32:.2f} (medians), {max(rates['bf16']) / max(rates['fp32']):.2f}"
            " (best)"
        )
    print(f"ratio: {min(ratios):.2f}")


if __name__ == "__main__":
    main()
