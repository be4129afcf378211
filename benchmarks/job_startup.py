"""Start-up of a pipeline job: what a fresh Python process pays before its work.

    python benchmarks/job_startup.py [--rounds 7]

Every Snakemake job is a new process, so a grid of short runs pays its imports once per job.
Each way below is a fresh `python -c` process; the ways alternate round after round (the VM's
speed swings from run to run) and the table gives each one's best and median wall time:

    torch             `import torch` alone
    train job         a training job's imports and its Adam optimizer (whose first use imports
                      torch._dynamo, inside torch.optim)
    evaluate job      an evaluation job's imports (scikit-learn's metrics among them)
    grey, torchvision an evaluation job converting a grey run's images with torchvision's
                      rgb_to_grayscale (what the library did before)
    grey, library     the same with the library's own rgb_to_gray (what it does now)

The last line, `saved: X s`, is the median start-up a grey run's evaluation job saves by not
importing torchvision.
"""

import argparse
import statistics
import subprocess
import sys
import time

TRAIN = (
    "import torch\n"
    "from visionrepro.engine.training import train\n"
    "import visionrepro.engine.checkpoints, visionrepro.provenance, visionrepro.engine.splits\n"
    "torch.optim.Adam([torch.zeros(1, requires_grad=True)])\n"
)
EVALUATE = (
    "import visionrepro.engine.checkpoints, visionrepro.engine.evaluation\n"
    "import visionrepro.engine.splits\n"
    "import torch\n"
    "x = torch.rand(8, 3, 64, 64)\n"
)
WAYS = {
    "torch": "import torch\n",
    "train job": TRAIN,
    "evaluate job": EVALUATE,
    "grey, torchvision": EVALUATE
    + "from torchvision.transforms.v2.functional import rgb_to_grayscale\n"
    + "rgb_to_grayscale(x, num_output_channels=3)\n",
    "grey, library": EVALUATE
    + "from visionrepro.engine.model_inputs import rgb_to_gray\n"
    + "rgb_to_gray(x)\n",
}


def seconds(code: str) -> float:
    """Wall time of a fresh interpreter running `code`."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in WAYS}
    for _ in range(args.rounds):
        for name, code in WAYS.items():
            times[name].append(seconds(code))
    print(f"{'way':18s} {'best s':>7s} {'median s':>9s}   ({args.rounds} rounds)")
    for name, values in times.items():
        print(f"{name:18s} {min(values):7.2f} {statistics.median(values):9.2f}")
    saved = statistics.median(times["grey, torchvision"]) - statistics.median(
        times["grey, library"]
    )
    print(f"saved: {saved:.2f} s")


if __name__ == "__main__":
    main()
