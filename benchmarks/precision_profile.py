"""Where HW4Net1's training step spends its time in fp32 and bf16 (docs/running.md).

    python benchmarks/precision_profile.py [--steps 200]

HW4Net1 at batch 4 on one thread, as the engine runs it (channels-last, fused Adam, forward and
loss under autocast for bf16). Prints each way's best and median ms per step over alternating
rounds, then `torch.profiler`'s self time per kind of operation and its share of the step. The
shares hold on a busy machine too; the milliseconds only on a quiet one.
"""

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.profiler import profile

from visionrepro.models import build_network

KINDS = {
    "optimizer (fused Adam, fp32)": ("_fused_adam",),
    "convolutions": ("convolution",),
    "linear layers": ("aten::mm", "aten::addmm"),
    "ReLU": ("clamp_min", "threshold_backward", "aten::relu"),
    "max-pooling": ("max_pool2d",),
    "casts": ("aten::copy_", "aten::_to_copy"),
}


def make_step(precision: str) -> Callable[[], None]:
    """One optimisation step of HW4Net1 on a fixed batch of 4 grey 64x64 images."""
    torch.manual_seed(0)
    net = build_network("HW4Net1", 5).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), 1e-3, betas=(0.9, 0.99), fused=True)
    x = torch.randn(4, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 5, (4,))
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps = {p: make_step(p) for p in ("fp32", "bf16")}
    for step in steps.values():  # one-off costs (oneDNN kernel generation) out of the timings
        for _ in range(50):
            step()
    walls: dict[str, list[float]] = {p: [] for p in steps}
    for _ in range(args.rounds):
        for precision, step in steps.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                step()
            walls[precision].append((time.perf_counter() - start) / args.steps * 1e3)
    for precision, times in walls.items():
        print(f"{precision}: best {min(times):.2f}, median {statistics.median(times):.2f} ms/step")
    for precision, step in steps.items():
        with profile() as prof:
            for _ in range(args.steps):
                step()
        events = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in events) / args.steps / 1e3
        parts = [f"{precision}: profiled {total:.2f} ms/step"]
        for kind, names in KINDS.items():
            chosen = [e for e in events if any(n in e.key for n in names)]
            ms = sum(e.self_cpu_time_total for e in chosen) / args.steps / 1e3
            parts.append(f"{kind} {ms:.2f} ({ms / total:.0%})")
        print("; ".join(parts))


if __name__ == "__main__":
    main()
