"""The training engine: the whole split in memory, batches by indexing, a checkpoint per epoch.

One loop serves classification (a label per image) and segmentation or colourization (a class per
pixel): the targets are gathered with the same index as the images, so a mirrored image gets its
mirrored mask.

Compared with a per-item Dataset + DataLoader, the maths are the same (same model, batch size,
optimizer, flips with probability p, normalisation) but the images are converted and normalised
once, each batch (flipped or not) is gathered with one index operation from a bank of the images
and their mirror images, convolutions run channels-last and Adam runs fused.

The recipe (`train`) follows torchvision's classification reference: a state saved and restored
as a whole (checkpoints.TrainState), `train_one_epoch`, then `score_epoch`.
"""

import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.checkpoints import TrainState, fingerprint, resume, save_checkpoint
from visionrepro.engine.epochs import epochs_path, write_epochs
from visionrepro.engine.losses import make_loss
from visionrepro.engine.model_inputs import (
    channels_last,
    color_jitter,
    normalize_input,
    resolve_normalization,
    target_classes,
    to_model_input,
    to_targets,
)
from visionrepro.engine.precision import autocast, check_precision, grad_scaler
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.logs import DETAIL
from visionrepro.models import build_network

log = logging.getLogger(__name__)

Loss = Callable[[Tensor, Tensor], Tensor]


def select_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads(threads: int) -> None:
    """Match torch's intra-op threads to the job's `threads`."""
    torch.set_num_threads(max(1, int(threads)))


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA), and make cuDNN choose deterministic kernels.

    CPU kernels are not switched to deterministic variants: with the same thread count
    (`configure_threads`) the engine's CPU runs repeat exactly all the same (tested).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def make_optimizer(params: list[nn.Parameter], settings: TrainSettings) -> torch.optim.Optimizer:
    """Adam (betas) or SGD (momentum), both with weight decay, fused."""
    if settings.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=settings.lr,
            momentum=settings.momentum,
            weight_decay=settings.weight_decay,
            fused=True,
        )
    return torch.optim.Adam(
        params,
        lr=settings.lr,
        betas=settings.betas,
        weight_decay=settings.weight_decay,
        fused=True,
    )


def gradient_mean(model: nn.Module) -> float:
    """The mean of all gradient entries over all parameters."""
    grads = [p.grad.flatten() for p in model.parameters() if p.grad is not None]
    return torch.cat(grads).mean().item()


@dataclass(frozen=True)
class TrainingBank:
    """The training split on the device, converted once: its images (rows N..2N-1: their mirror
    images when flips are on; in [0, 1] when colour jitter normalises each batch), targets, and
    the run's one order of the images (`shuffle: once`: a seeded permutation, every epoch)."""

    inputs: Tensor
    targets: Tensor
    size: int
    fixed_order: Tensor

    @classmethod
    def build(
        cls, data: ArrayDataset, settings: TrainSettings, device: torch.device, seed: int
    ) -> "TrainingBank":
        mirrors = settings.hflip > 0
        inputs = to_model_input(
            data.images, settings, mirrors=mirrors, normalize=not settings.color_jitter
        )
        targets = to_targets(data, settings, mirrors=mirrors)
        n = len(data)
        fixed_order = (
            torch.randperm(n, generator=torch.Generator().manual_seed(seed))
            if settings.shuffle == "once"
            else torch.arange(n)
        )
        return cls(inputs.to(device), targets.to(device), n, fixed_order)

    def epoch_rows(self, settings: TrainSettings, generator: torch.Generator) -> Tensor:
        """The rows of one epoch, in its order: each image's row, or its mirror image's."""
        n = self.size
        if settings.shuffle is True:
            order = torch.randperm(n, generator=generator)
        else:  # false: dataset order; "once": the run's permutation
            order = self.fixed_order
        flips = (torch.rand(n, generator=generator) < settings.hflip).long()
        return (order + flips[order] * n).to(self.inputs.device)

    def batch(self, rows: Tensor, settings: TrainSettings) -> tuple[Tensor, Tensor]:
        """The inputs (colour-jittered and normalised if asked for) and targets at `rows`."""
        x = self.inputs[rows]
        if settings.color_jitter:
            x = channels_last(normalize_input(color_jitter(x, settings.color_jitter), settings))
        return x, self.targets[rows].long()


@dataclass(frozen=True)
class ScoredSplit:
    """The split scored after every epoch, prepared once: its name in the history ("val", or
    "test" when the write-up monitors the test set), inputs on the device, targets, dataset."""

    name: str
    dataset: ArrayDataset
    inputs: Tensor
    targets: Tensor

    @classmethod
    def build(
        cls, name: str, data: ArrayDataset, settings: TrainSettings, device: torch.device
    ) -> "ScoredSplit":
        return cls(
            name, data, to_model_input(data.images, settings).to(device), to_targets(data, settings)
        )


def predict_with_loss(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor | None = None,
    loss_fn: Loss | None = None,
    batch_size: int = 256,
) -> tuple[Tensor, float]:
    """Arg-max predictions for prepared inputs, and the mean loss over them when `targets` and
    `loss_fn` are given (else NaN)."""
    device = next(model.parameters()).device
    model.eval()
    preds = []
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            batch = channels_last(inputs[start : start + batch_size].to(device))
            out = model(batch)
            preds.append(out.argmax(1).cpu())
            if targets is not None and loss_fn is not None:
                y = targets[start : start + batch_size].to(device).long()
                total += loss_fn(out, y).item() * len(batch)
    loss = total / len(inputs) if targets is not None and loss_fn is not None else math.nan
    return torch.cat(preds), loss


def epoch_scores(
    preds: Tensor, targets: Tensor, dataset: ArrayDataset, settings: TrainSettings
) -> dict[str, float]:
    """The per-epoch evaluation scores (`targets`: `to_targets` of the split), in %: accuracy,
    mIoU and pixel accuracy (segmentation), or pixel accuracy (colorization)."""
    accuracy = 100.0 * (preds == targets).double().mean().item()
    if not settings.kind.dense:
        return {"accuracy": accuracy}
    if settings.kind.palette:
        return {"pixel_accuracy": accuracy}
    from visionrepro.engine.metrics import segmentation_metrics

    scores = segmentation_metrics(
        targets.numpy(), preds.numpy(), dataset.mask_classes, dataset.mask_values
    )
    return {k: scores[k] for k in ("miou", "pixel_accuracy")}


def score_epoch(
    model: nn.Module, split: ScoredSplit, loss_fn: Loss, settings: TrainSettings
) -> dict[str, float]:
    """The monitored split's loss and scores, keyed `<split>_<score>`."""
    preds, loss = predict_with_loss(
        model, split.inputs, split.targets, loss_fn, settings.eval_batch_size
    )
    scores = {"loss": loss, **epoch_scores(preds, split.targets, split.dataset, settings)}
    return {f"{split.name}_{key}": value for key, value in scores.items()}


def _step(
    state: TrainState, x: Tensor, y: Tensor, loss_fn: Loss, step: int
) -> tuple[Tensor, Tensor]:
    """One optimisation step on a batch, forward and loss in the run's precision; the
    (detached) outputs and loss. The scaler is fp16's (a pass-through otherwise)."""
    state.optimizer.zero_grad(set_to_none=True)
    with autocast(state.settings.precision, x.device):
        out = state.model(x)
        loss = loss_fn(out, y)
    state.scaler.scale(loss).backward()
    if step < state.settings.grad_steps:
        state.scaler.unscale_(state.optimizer)
        state.history.setdefault("grad_mean", []).append(gradient_mean(state.model))
    state.scaler.step(state.optimizer)
    state.scaler.update()
    return out.detach(), loss.detach()


@dataclass
class RunClock:
    """When this attempt at a run started and at which iteration, for rates and the ETA."""

    started: float
    first_iteration: int  # iterations done before this attempt (a resumed run)
    total_iterations: int

    def eta(self, iteration: int) -> float:
        """Seconds left for the run at the rate of this attempt so far (scoring included)."""
        done = iteration - self.first_iteration
        elapsed = time.perf_counter() - self.started
        return elapsed / max(done, 1) * (self.total_iterations - iteration)


def format_duration(seconds: float) -> str:
    """A duration for a log line: 45 s, 12 min 5 s, 3 h 20 min."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@dataclass
class _Progress:
    """Where an epoch is, for the loss log: its number, iterations, start time, the run's clock."""

    epoch: int
    iterations: int
    started: float
    clock: RunClock

    def log_window(self, state: TrainState, done: int, window: Tensor) -> None:
        """Record and log the mean loss of the iterations since the last entry; reset `window`."""
        settings = state.settings
        mean_loss = window.item() / (done % settings.log_every or settings.log_every)
        window.zero_()
        iteration = (self.epoch - 1) * self.iterations + done
        state.history["loss"].append(
            {"epoch": self.epoch, "iteration": iteration, "loss": mean_loss}
        )
        rate = done * settings.batch_size / (time.perf_counter() - self.started)
        log.info(
            "epoch %d/%d iteration %d/%d loss %.4f (%.0f images/s, %s left)",
            self.epoch,
            settings.epochs,
            done,
            self.iterations,
            mean_loss,
            rate,
            format_duration(self.clock.eta(iteration)),
            extra=DETAIL,
        )


def train_one_epoch(
    state: TrainState, bank: TrainingBank, loss_fn: Loss, epoch: int, clock: RunClock
) -> dict[str, float]:
    """One pass over the training split in the epoch's seeded order: the mean training loss (and
    accuracy for classification); the loss log gets an entry every `log_every` iterations."""
    settings = state.settings
    state.model.train()
    progress = _Progress(
        epoch, math.ceil(bank.size / settings.batch_size), time.perf_counter(), clock
    )
    device = bank.inputs.device
    window = torch.zeros((), device=device)
    total = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    for it, rows in enumerate(
        bank.epoch_rows(settings, state.generator).split(settings.batch_size)
    ):
        x, y = bank.batch(rows, settings)
        out, loss = _step(state, x, y, loss_fn, (epoch - 1) * progress.iterations + it)
        window += loss
        total += loss * len(rows)
        if not settings.kind.dense:
            correct += (out.argmax(1) == y).sum()
        if (it + 1) % settings.log_every == 0 or it + 1 == progress.iterations:
            progress.log_window(state, it + 1, window)
    scores = {"train_loss": total.item() / bank.size}
    state.history["epoch_train_seconds"].append(time.perf_counter() - progress.started)
    if not settings.kind.dense:
        scores["train_accuracy"] = 100.0 * correct.item() / bank.size
    return scores


def new_state(
    network: str,
    train_set: ArrayDataset,
    settings: TrainSettings,
    *,
    seed: int,
    device: torch.device,
    network_options: Mapping[str, Any],
) -> TrainState:
    """Epoch 0 of a run: seeded initial weights, the optimizer, resolved normalisation."""
    check_precision(settings.precision, device)
    seed_everything(seed)
    settings = resolve_normalization(settings, train_set.images)
    num_classes = len(target_classes(train_set, settings.task))
    model = build_network(network, num_classes, **network_options)
    model = model.to(device=device, memory_format=torch.channels_last)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], settings)
    history = {
        "loss": [],
        "epoch_seconds": [],
        "epoch_train_seconds": [],
        "normalization": {"mean": settings.mean, "std": settings.std},
    }
    generator = torch.Generator().manual_seed(seed)
    return TrainState(
        *(network, dict(network_options), settings, model, optimizer, generator, history),
        scaler=grad_scaler(settings.precision, device),
    )


def _end_epoch(state: TrainState, scores: dict[str, float], seconds: float) -> None:
    """Record an epoch's scores and duration in the history, and log them."""
    state.epoch += 1
    for key, value in scores.items():
        state.history.setdefault(key, []).append(value)
    state.history["epoch_seconds"].append(seconds)
    log.info(
        "epoch %d/%d done in %.1f s: %s",
        state.epoch,
        state.settings.epochs,
        seconds,
        ", ".join(f"{k.replace('_', ' ')} {v:.4g}" for k, v in scores.items()),
        extra=DETAIL,
    )


def train(
    network: str,
    train_set: ArrayDataset,
    val_set: ArrayDataset,
    settings: TrainSettings,
    *,
    seed: int,
    device: torch.device,
    checkpoint: Path | None = None,
    on_epoch_end: Callable[[int], None] | None = None,
    network_options: Mapping[str, Any] | None = None,
    monitor: str = "val",
    code: Sequence[str | Path] = (),
) -> TrainState:
    """Train `network`; the final state holds the model, its history and resolved settings.

    `val_set` is scored after every epoch, as `{monitor}_<score>` in the history ("val" for a
    held-out split, "test" when the write-up monitors the test set). `network_options` go to
    the network's constructor (e.g. the ladder's dropout). A checkpoint, and the per-epoch
    numbers beside it (`engine.epochs`: epochs.csv), are written after every epoch; a later call
    with the same arguments resumes from it and ends with exactly the same model and history as
    an uninterrupted run, provided the settings, the data and the `code` files (default: the
    library's training modules) are unchanged.
    """
    options = dict(network_options or {})
    state = new_state(
        network, train_set, settings, seed=seed, device=device, network_options=options
    )
    if checkpoint is not None:
        fp = fingerprint(network, seed, state.settings, train_set, val_set, options, code)
        resume(state, checkpoint, fp)
        write_epochs(epochs_path(checkpoint), state.history, settings.epochs)
    loss_fn = make_loss(state.settings.loss)
    bank = TrainingBank.build(train_set, state.settings, device, seed)
    scored = ScoredSplit.build(monitor, val_set, state.settings, device)
    log.info(
        "training %s (seed %d) on %s: %d train / %d %s images, %d epochs x %d iterations",
        *(network, seed, device, bank.size, len(val_set), monitor, settings.epochs),
        math.ceil(bank.size / settings.batch_size),
    )
    iterations = math.ceil(bank.size / settings.batch_size)
    clock = RunClock(time.perf_counter(), state.epoch * iterations, settings.epochs * iterations)
    for epoch in range(state.epoch + 1, settings.epochs + 1):
        started = time.perf_counter()
        scores = train_one_epoch(state, bank, loss_fn, epoch, clock)
        scores |= score_epoch(state.model, scored, loss_fn, state.settings)
        _end_epoch(state, scores, time.perf_counter() - started)
        if checkpoint is not None:
            save_checkpoint(checkpoint, state, fp)
            write_epochs(epochs_path(checkpoint), state.history, settings.epochs)
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    _end_run(state, bank.size)
    return state


def _end_run(state: TrainState, images: int) -> None:
    """Record the run's mean training rate (images/s over its training passes) and log it with
    the run's wall time (every attempt's epochs, scoring included)."""
    history = state.history
    rate = images * state.epoch / max(sum(history["epoch_train_seconds"]), 1e-9)
    history["images_per_second"] = rate
    log.info(
        "run done: %d epochs in %s (%.0f images/s in training, %s precision)",
        state.epoch,
        format_duration(sum(history["epoch_seconds"])),
        rate,
        state.settings.precision,
    )
