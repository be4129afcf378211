"""A GPU check: training speed, same-seed repeatability, peak memory and shared-GPU slots.

    python benchmarks/gpu_check.py [--budget 420] [--seconds 8] [--threads 4] [--quick]

For HW4Net1 (classification, batch 4, 64x64 grey) and UNet (segmentation, batch 16, 64x64 RGB),
in fp32 and bf16, it trains through `visionrepro.engine.training.train` on CUDA and on the CPU:

- samples/s: one short untimed run first (CUDA context, cuDNN and oneDNN kernel choice), whose
  rate sizes the timed runs to about `--seconds` each; the best of the two timed runs is shown;
- same seed: the two timed runs use seed 0; their final weights must be equal (torch.equal);
  `max |dw|` is the largest weight difference where they are not;
- peak GPU memory: `torch.cuda.max_memory_allocated` over a timed run;
- two processes sharing one GPU: HW4Net1 fp32 in worker processes that each take a slot
  (`engine.gpus.gpu_slot`, 1 device x 2 slots in a temporary slot folder), first one alone, then
  two at once; their images/s together (all images over the span from the first start to the
  last end) against one alone.

Without CUDA it says so, runs the CPU rows and the slot workers on the CPU (a pretend device:
the slots are still taken), and checks that path. `--quick` makes every run tiny (the CPU
path's own test). A stage that would start after `--budget` seconds is skipped and says so,
which keeps the whole check within 8 minutes on one GPU. The exit status is 1 when a same-seed
pair differs or the slot workers did not get distinct slots, else 0.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace

import pandas as pd
import torch
from precision_throughput import NETWORKS, images

from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.gpus import SLURM_JOB, VISIBLE, GpuSettings, gpu_slot
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import configure_threads, select_device, train

SHARED_NETWORK = "HW4Net1"
MAX_IMAGES = 20_000  # the bank on the device: about 100 KB per image with its mirror image


@dataclass
class Budget:
    """The check's deadline: stages that would start after it are skipped."""

    deadline: float

    def over(self) -> bool:
        return time.perf_counter() > self.deadline


def timed_run(
    network: str, data: ArrayDataset, settings: TrainSettings, device: torch.device
) -> tuple[float, dict[str, torch.Tensor], float | None]:
    """One seed-0 training run: its samples/s, final weights and peak GPU memory (MiB)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    state = train(network, data, data.take(slice(16)), settings, seed=0, device=device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    rate = len(data) * settings.epochs / (time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    weights = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
    return rate, weights, peak


def weight_gap(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """The largest absolute difference between two state dicts' entries (0.0: identical)."""
    return max((x.double() - b[k].double()).abs().max().item() for k, x in a.items())


def measure(
    network: str, precision: str, device: torch.device, seconds: float, data: ArrayDataset
) -> dict[str, object]:
    """A table row: samples/s, same-seed equality and peak memory of one network, precision
    and device."""
    base = NETWORKS[network]
    row: dict[str, object] = {
        "check": "train",
        "network": network,
        "batch": base.batch_size,
        "precision": precision,
        "device": device.type,
    }
    settings = replace(base, precision=precision, epochs=1)
    warm = 8 * base.batch_size
    try:
        rate, _, _ = timed_run(network, data.take(slice(warm)), settings, device)
    except ValueError as err:  # engine.precision.check_precision: e.g. no bf16 on this GPU
        return row | {"result": f"unsupported: {err}"}
    n = int(min(MAX_IMAGES, len(data), max(warm, rate * seconds)))
    n -= n % base.batch_size
    rates, runs, peaks = [], [], []
    for _ in range(2):
        rate, weights, peak = timed_run(network, data.take(slice(n)), settings, device)
        rates.append(rate)
        runs.append(weights)
        peaks.append(peak)
    gap = weight_gap(*runs)
    return row | {
        "images": n,
        "samples/s": round(max(rates)),
        "peak MiB": None if peaks[0] is None else round(max(peaks)),
        "same seed": "identical" if gap == 0 else "DIFFERENT",
        "max |dw|": gap,
    }


def worker(args: argparse.Namespace) -> None:
    """A slot worker: take a GPU slot, warm up, say "ready", wait for "go" on stdin, train
    SHARED_NETWORK fp32 for 2 epochs, print one JSON line."""
    outer = os.environ.pop(VISIBLE, None)  # the GPUs this check was given, if any
    os.environ.pop(SLURM_JOB, None)  # take the slots even inside a SLURM job
    with gpu_slot(GpuSettings(slot_dir=args.worker, devices=1, slots_per_device=2)) as slot:
        if outer is not None:  # slot.device indexes the check's own devices
            os.environ[VISIBLE] = outer.split(",")[slot.device]
        configure_threads(args.threads)
        device = select_device()
        data = images(args.images)
        settings = replace(NETWORKS[SHARED_NETWORK], epochs=1)
        train(
            SHARED_NETWORK,
            data.take(slice(64)),
            data.take(slice(16)),
            settings,
            seed=0,
            device=device,
        )
        print("ready", flush=True)
        sys.stdin.readline()  # every worker holds its slot and is warm: start together
        start = time.time()
        train(
            SHARED_NETWORK,
            data,
            data.take(slice(16)),
            replace(settings, epochs=2),
            seed=0,
            device=device,
        )
        end = time.time()
    print(json.dumps({"slot": slot.index, "device": device.type, "start": start, "end": end}))


def run_workers(count: int, slot_dir: str, n: int, threads: int) -> list[dict[str, float]]:
    """Start `count` slot workers, let them train at once when all are ready, and read their
    JSON lines."""
    command = [sys.executable, __file__, "--worker", slot_dir, "--images", str(n)]
    command += ["--threads", str(threads)]
    procs = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    for proc in procs:
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"gpu_check: a slot worker failed (exit {proc.wait()})")
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"gpu_check: a slot worker failed (exit {proc.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def shared_rows(images_per_worker: int, threads: int) -> list[dict[str, object]]:
    """One slot worker alone, then two at once: their images/s and slots."""
    rows = []
    with tempfile.TemporaryDirectory() as slot_dir:
        for count in (1, 2):
            results = run_workers(count, slot_dir, images_per_worker, threads)
            span = max(r["end"] for r in results) - min(r["start"] for r in results)
            slots = sorted(int(r["slot"]) for r in results)
            rows.append(
                {
                    "check": f"{count} process{'es' * (count > 1)}, slots {slots}",
                    "network": SHARED_NETWORK,
                    "batch": NETWORKS[SHARED_NETWORK].batch_size,
                    "precision": "fp32",
                    "device": results[0]["device"],
                    "images": images_per_worker,
                    "samples/s": round(2 * images_per_worker * count / span),
                    "result": "distinct slots" if len(set(slots)) == count else "SAME SLOT",
                }
            )
    rows[1]["result"] += f"; together / alone {rows[1]['samples/s'] / rows[0]['samples/s']:.2f}"
    return rows


def devices() -> list[torch.device]:
    """CUDA (when available) and the CPU; says so when there is no CUDA."""
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        print(f"CUDA: {name} (torch {torch.__version__}, CUDA {torch.version.cuda})")
        return [torch.device("cuda"), torch.device("cpu")]
    print(
        f"no CUDA: torch {torch.__version__} (built with CUDA {torch.version.cuda}) sees no "
        "CUDA device; checking the CPU path only (CPU rows, slot workers on the CPU)"
    )
    return [torch.device("cpu")]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, default=420, help="seconds; later stages skip")
    parser.add_argument("--seconds", type=float, default=8, help="target length of a timed run")
    parser.add_argument("--threads", type=int, default=4, help="CPU threads of each training")
    parser.add_argument("--quick", action="store_true", help="tiny runs: the CPU path's check")
    parser.add_argument("--images", type=int, default=8192, help="images per slot worker")
    parser.add_argument("--worker", metavar="SLOT_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.images, args.threads = 0.2, 64, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    budget = Budget(time.perf_counter() + args.budget)
    configure_threads(args.threads)
    print(f"threads per CPU training: {torch.get_num_threads()}  budget: {args.budget:.0f} s")
    data = images(MAX_IMAGES if not args.quick else 256)
    rows: list[dict[str, object]] = []
    for device in devices():
        for network in NETWORKS:
            for precision in ("fp32", "bf16"):
                if budget.over():
                    skipped = {"network": network, "precision": precision, "device": device.type}
                    rows.append({"check": "train", **skipped, "result": "skipped: over --budget"})
                    continue
                rows.append(measure(network, precision, device, args.seconds, data))
                print(rows[-1], flush=True)
    if torch.cuda.is_available():
        torch.cuda.empty_cache()  # the workers' share of the GPU
    if budget.over():
        rows.append({"check": "slots", "result": "skipped: over --budget"})
    else:
        rows += shared_rows(args.images, args.threads)
    table = pd.DataFrame(rows)
    print(table.astype(object).where(table.notna(), "").to_markdown(index=False))
    return 1 if failures(table) else 0


def failures(table: pd.DataFrame) -> bool:
    """Whether a same-seed pair differs or two workers shared a slot."""
    different = table.get("same seed", pd.Series(dtype=object)).eq("DIFFERENT").any()
    shared = table.get("result", pd.Series(dtype=object)).astype(str).str.contains("SAME SLOT")
    return bool(different or shared.any())


if __name__ == "__main__":
    raise SystemExit(main())
