"""How much of a colourization run's score its BatchNorm running statistics cost: each saved
model of a CIFAR-10 colourization experiment (the horses) scored on the test horses as trained
(running averages, momentum 0.1, so mostly the last batches of the last epoch) and again with
the statistics recomputed over one pass of the whole training split
(`torch.optim.swa_utils.update_bn`). The weights are not touched.

    python benchmarks/bn_recompute.py RESULTS_DIR DATA_DIR EXPERIMENT [--seeds 0 1 ...]
    e.g. python benchmarks/bn_recompute.py results data/cifar10/packed cifar10_colour

Each run's palette is RESULTS_DIR/palettes/EXPERIMENT/seed<N>.npz (`palette.seed: run`). Prints a
Markdown table: per run both scores, and per network their mean ± std (docs/differences.md).
"""

import argparse
import statistics
from pathlib import Path

import torch
from torch.optim.swa_utils import update_bn

from visionrepro.data.color import load_palette, with_color_targets
from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.checkpoints import load_trained
from visionrepro.engine.model_inputs import to_model_input, to_targets
from visionrepro.engine.splits import load_split
from visionrepro.engine.training import predict_with_loss

BATCH = 100


def pixel_accuracy(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Per-pixel accuracy (%) of the model in eval mode."""
    preds, _ = predict_with_loss(model, inputs, batch_size=BATCH)
    return 100.0 * (preds == targets).double().mean().item()


def scores(
    run_dir: Path, train: ArrayDataset, test: ArrayDataset, palette: Path
) -> tuple[float, float]:
    """(score with the stored statistics, score with statistics over the training split)."""
    trained = load_trained(run_dir / "model.pt")
    settings = trained.settings
    test = with_color_targets(test, load_palette(palette))
    test_x, test_y = to_model_input(test.images, settings), to_targets(test, settings).long()
    model = trained.build()
    stored = pixel_accuracy(model, test_x, test_y)
    update_bn(to_model_input(train.images, settings).split(BATCH), model)
    return stored, pixel_accuracy(model, test_x, test_y)


def summary(values: list[float]) -> str:
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("data", type=Path)
    parser.add_argument("experiment")
    parser.add_argument("--seeds", type=int, nargs="*")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| network | seed | running statistics | recomputed | gain |\n|---|---|---|---|---|")
    train = load_split(args.data / "train.npz", classes=["horse"])
    test = load_split(args.data / "test.npz", classes=["horse"])
    totals: dict[str, tuple[list[float], list[float]]] = {}
    for run_dir in sorted((args.results / "runs" / args.experiment).glob("*/seed*")):
        network, seed = run_dir.parent.name, int(run_dir.name.removeprefix("seed"))
        if args.seeds and seed not in args.seeds:
            continue
        palette = args.results / "palettes" / args.experiment / f"seed{seed}.npz"
        stored, recomputed = scores(run_dir, train, test, palette)
        gain = recomputed - stored
        print(f"| {network} | {seed} | {stored:.2f} | {recomputed:.2f} | {gain:+.2f} |")
        before, after = totals.setdefault(network, ([], []))
        before.append(stored)
        after.append(recomputed)
    for network, (before, after) in totals.items():
        if len(before) > 1:
            print(f"| {network} | mean ± std | {summary(before)} | {summary(after)} | |")


if __name__ == "__main__":
    main()
