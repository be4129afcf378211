"""Wall time of a small grid through Snakemake under different job layouts.

    python benchmarks/grid_walltime.py [--rounds 3] [--epochs 10] [--layouts t1 t2 ...]

The grid is fixed: on the demo data, `coco_gray` (HW4Net1/2/3 x seeds 0, 1: classification at
batch 4) and `coco_seg` (PoolUpsampleNet, ConvTransposeNet, UNet x seed 0: segmentation at
batch 16), every other experiment disabled. It runs in a temporary copy of the workflow with
`--cores 2`, as a user's `snakemake --cores all` would on a 2-core machine. The data (mirror,
subset, packs) is built once, untimed; each timed run trains and evaluates the whole grid into a
results folder of its own (`results_dir`), so every run does the same jobs from scratch.

Layouts (`--layouts`, default all):
    t1        jobs.train.threads 1: two one-thread jobs side by side
    t2        jobs.train.threads 2: one two-thread job at a time
    t1-bf16   t1 with train.precision bf16 (torch.autocast on the CPU)
    t2-bf16   t2 with train.precision bf16

Timed runs alternate between the layouts, round after round (the VM's speed swings from run to
run), and the table gives each layout's best and median wall time and their ratios to the first
layout's. A run at `--epochs 1` per layout beside the main ones splits each layout's time into a
fixed cost per job (start-up, imports, data loading, evaluation) and the training proper:
fixed = (T(1 epoch) - (T(E) - T(1)) / (E - 1)) / jobs, from the medians.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from workflow_helpers import OFFLINE, copy_workflow  # noqa: E402

GRID = {
    "coco_gray": {"networks": ["HW4Net1", "HW4Net2", "HW4Net3"], "seeds": [0, 1]},
    "coco_seg": {"networks": ["PoolUpsampleNet", "ConvTransposeNet", "UNet"], "seeds": [0]},
}
PACKS = ("train", "val", "train_masks", "val_masks")
LAYOUTS = {
    "t1": {"threads": 1},
    "t2": {"threads": 2},
    "t1-bf16": {"threads": 1, "precision": "bf16"},
    "t2-bf16": {"threads": 2, "precision": "bf16"},
}


def grid_config(
    workdir: Path, epochs: int, threads: int, precision: str | None, results: str
) -> dict:
    """The demo config of the workflow copy in `workdir` (not of the project, which may be
    edited while the benchmark runs) narrowed to the grid, with one layout's settings."""
    config = yaml.safe_load((workdir / "configs" / "demo.yaml").read_text())
    default = yaml.safe_load((workdir / "config.yaml").read_text())
    for name in default["experiments"]:  # the overlay merges over config.yaml: disable its own
        config["experiments"].setdefault(name, {"enabled": False})
    config["results_dir"] = results
    config["jobs"]["train"]["threads"] = threads
    for name, exp in config["experiments"].items():
        exp["enabled"] = name in GRID
        if name in GRID:
            exp.update(GRID[name])
            exp["train"] = {**exp["train"], "epochs": epochs}
            if precision:
                exp["train"]["precision"] = precision
    return config


def targets(results: str) -> list[str]:
    """Every run's metrics.json: training and evaluation, no figures or report."""
    return [
        f"{results}/runs/{name}/{network}/seed{seed}/metrics.json"
        for name, grid in GRID.items()
        for network in grid["networks"]
        for seed in grid["seeds"]
    ]


def snakemake(workdir: Path, config: dict, *targets: str) -> float:
    """Run the workflow on `targets` with `config` as the only config file; its wall time."""
    path = workdir / "bench.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    command = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", str(path)]
    start = time.perf_counter()
    proc = subprocess.run(
        [*command, "--quiet", "all", "--", *targets],
        cwd=workdir,
        env=OFFLINE,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def run_rounds(workdir: Path, layouts: list[str], epochs: list[int], rounds: int) -> dict:
    """Wall times per (layout, epochs), the layouts alternating within each round."""
    times: dict[tuple[str, int], list[float]] = {}
    for r in range(rounds):
        for n in epochs:
            for name in layouts:
                results = f"results_{name}_e{n}_r{r}"
                config = grid_config(
                    workdir,
                    n,
                    precision=LAYOUTS[name].get("precision"),
                    threads=LAYOUTS[name]["threads"],
                    results=results,
                )
                seconds = snakemake(workdir, config, *targets(results))
                times.setdefault((name, n), []).append(seconds)
                print(f"round {r + 1}: {name:8s} {n:3d} epochs  {seconds:7.1f} s", flush=True)
    return times


def report(times: dict, layouts: list[str], epochs: int) -> None:
    jobs = len(targets(""))
    base = statistics.median(times[(layouts[0], epochs)])
    base_best = min(times[(layouts[0], epochs)])
    print(f"\n{jobs} training runs (+ their evaluations), {epochs} epochs, --cores 2")
    print(
        f"{'layout':8s} {'best s':>8s} {'median s':>9s} {'fixed s/job':>12s} "
        f"{'best ratio':>11s} {'median ratio':>13s}"
    )
    for name in layouts:
        full, one = times[(name, epochs)], times.get((name, 1))
        fixed = "-"
        if one and epochs > 1:
            per_epoch = (statistics.median(full) - statistics.median(one)) / (epochs - 1)
            fixed = f"{(statistics.median(one) - per_epoch) / jobs:.2f}"
        print(
            f"{name:8s} {min(full):8.1f} {statistics.median(full):9.1f} {fixed:>12s} "
            f"{base_best / min(full):11.2f} {base / statistics.median(full):13.2f}"
        )
    print(f"(ratio: {layouts[0]}'s wall time over the layout's; above 1 is faster)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--layouts", nargs="+", choices=list(LAYOUTS), default=list(LAYOUTS))
    parser.add_argument("--no-fixed-cost", action="store_true", help="skip the 1-epoch runs")
    args = parser.parse_args()
    epochs = [args.epochs] if args.no_fixed_cost or args.epochs == 1 else [1, args.epochs]
    with tempfile.TemporaryDirectory(prefix="grid-walltime-") as tmp:
        workdir = copy_workflow(Path(tmp))
        data = grid_config(workdir, 1, threads=1, precision=None, results="results_data")
        print("building the demo data (untimed) ...", flush=True)
        packs = [f"{data['data_dir']}/coco/packed/{split}.npz" for split in PACKS]
        snakemake(workdir, data, *packs)
        times = run_rounds(workdir, args.layouts, epochs, args.rounds)
    report(times, args.layouts, args.epochs)


if __name__ == "__main__":
    main()
