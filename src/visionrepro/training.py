"""The training engine: the whole split in memory, batches by indexing, a checkpoint per epoch.

Compared with a per-item Dataset + DataLoader, the maths are the same (same model, batch size,
optimizer, flips with probability p, normalisation) but the images are converted and normalised
once, each batch (flipped or not) is gathered with one index operation from a bank of the images
and their mirror images, convolutions run channels-last and Adam runs fused.
"""

import hashlib
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torchvision.transforms.v2 import functional as TF

from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import atomic_path
from visionrepro.models import build_network
from visionrepro.registry import network_source

log = logging.getLogger(__name__)

COLORS = ("rgb", "gray")


@dataclass(frozen=True)
class TrainSettings:
    """Hyperparameters of one training run (the experiment's `train` config plus its colour)."""

    epochs: int
    batch_size: int
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    hflip: float = 0.5
    mean: float = 0.5
    std: float = 0.5
    color: str = "rgb"
    log_every: int = 100
    eval_batch_size: int = 256

    def __post_init__(self) -> None:
        if self.color not in COLORS:
            raise ValueError(f"color must be one of {COLORS}, got {self.color!r}")

    @classmethod
    def from_config(cls, train: Mapping[str, Any], color: str = "rgb") -> "TrainSettings":
        """Build from an experiment's `train` mapping; keys the engine does not know are errors."""
        known = {f.name for f in fields(cls)} - {"color"}
        unknown = set(train) - known
        if unknown:
            raise KeyError(f"unknown train settings {sorted(unknown)}; known: {sorted(known)}")
        values = dict(train)
        if "betas" in values:
            values["betas"] = tuple(values["betas"])
        return cls(**values, color=color)


def select_device(prefer: str = "auto") -> torch.device:
    """CUDA when available (or asked for), else CPU."""
    if prefer == "cuda" or (prefer == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def configure_threads(threads: int) -> None:
    """Match torch's intra-op threads to the job's `threads`."""
    torch.set_num_threads(max(1, int(threads)))


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch; make CPU and cuDNN kernels deterministic."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def to_model_input(
    images: np.ndarray | Tensor,
    settings: TrainSettings,
    *,
    mirrors: bool = False,
    chunk: int = 1024,
) -> Tensor:
    """uint8 N x 3 x H x W -> float in [0, 1], grey if asked, normalised, channels-last.

    With `mirrors`, rows N..2N-1 hold the horizontally flipped images, so that a batch, flipped
    or not, is gathered with one index operation (row i, or row i + N for its mirror image).
    """
    images = torch.as_tensor(images)
    n = len(images)
    out = torch.empty(
        (2 * n if mirrors else n, *images.shape[1:]), memory_format=torch.channels_last
    )
    for start in range(0, n, chunk):
        x = images[start : start + chunk].float().div_(255)
        if settings.color == "gray":
            x = TF.rgb_to_grayscale(x, num_output_channels=3)
        x = (x - settings.mean) / settings.std
        out[start : start + len(x)] = x
        if mirrors:
            out[n + start : n + start + len(x)] = x.flip(-1)
    return out


def _channels_last(x: Tensor) -> Tensor:
    return x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x


def predict(model: nn.Module, inputs: Tensor, batch_size: int = 256) -> Tensor:
    """Arg-max predictions of `model` for prepared inputs (on the model's device)."""
    device = next(model.parameters()).device
    model.eval()
    preds = []
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            batch = _channels_last(inputs[start : start + batch_size].to(device))
            preds.append(model(batch).argmax(1).cpu())
    return torch.cat(preds)


def fingerprint(
    network: str, seed: int, settings: TrainSettings, train: ArrayDataset, val: ArrayDataset
) -> str:
    """Identify a run, so that a checkpoint is only resumed by the very same run."""
    digest = hashlib.sha256()
    digest.update(network_source(network).read_bytes())
    digest.update(repr((network, seed, sorted(asdict(settings).items()))).encode())
    for array in (train.images, train.labels, val.images, val.labels):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: Path | None, fp: str) -> dict[str, Any] | None:
    if path is None or not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is discarded
        log.warning("ignoring unreadable checkpoint %s (%s); starting afresh", path, err)
        return None
    if state.get("fingerprint") != fp:
        log.warning("ignoring checkpoint %s: it belongs to another configuration or dataset", path)
        return None
    return state


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
) -> tuple[nn.Module, dict[str, Any]]:
    """Train `network` and return it with its history (loss curve, val accuracy per epoch).

    A checkpoint is written after every epoch; a later call with the same arguments resumes
    from it and ends with exactly the same model and history as an uninterrupted run.
    """
    seed_everything(seed)
    num_classes = len(train_set.classes)
    model = build_network(network, num_classes)
    model = model.to(device=device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=settings.lr,
        betas=settings.betas,
        weight_decay=settings.weight_decay,
        fused=True,
    )
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    history: dict[str, Any] = {"loss": [], "val_accuracy": [], "epoch_seconds": []}
    start_epoch = 1

    fp = fingerprint(network, seed, settings, train_set, val_set) if checkpoint else ""
    state = _load_checkpoint(checkpoint, fp)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        history = state["history"]
        start_epoch = state["epoch"] + 1
        log.info(
            "resuming %s seed %d from the checkpoint after epoch %d", network, seed, state["epoch"]
        )

    bank = to_model_input(train_set.images, settings, mirrors=settings.hflip > 0).to(device)
    targets = torch.as_tensor(train_set.labels).to(device)
    val_inputs = to_model_input(val_set.images, settings).to(device)
    val_targets = torch.as_tensor(val_set.labels)
    n = len(train_set)
    iters_per_epoch = math.ceil(n / settings.batch_size)
    log.info(
        "training %s (seed %d) on %s: %d train / %d val images, %d epochs x %d iterations",
        network,
        seed,
        device,
        n,
        len(val_set),
        settings.epochs,
        iters_per_epoch,
    )

    for epoch in range(start_epoch, settings.epochs + 1):
        model.train()
        started = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        flips = (torch.rand(n, generator=generator) < settings.hflip).long()
        rows = (order + flips[order] * n).to(device)  # each image's row, or its mirror's
        labels = targets[order.to(device)]
        running = torch.zeros((), device=device)
        for it in range(iters_per_epoch):
            batch = slice(it * settings.batch_size, (it + 1) * settings.batch_size)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(bank[rows[batch]]), labels[batch])
            loss.backward()
            optimizer.step()
            running += loss.detach()
            done = it + 1
            if done % settings.log_every == 0 or done == iters_per_epoch:
                count = done % settings.log_every or settings.log_every
                mean_loss = running.item() / count
                running.zero_()
                global_it = (epoch - 1) * iters_per_epoch + done
                history["loss"].append({"epoch": epoch, "iteration": global_it, "loss": mean_loss})
                rate = done * settings.batch_size / (time.perf_counter() - started)
                log.info(
                    "epoch %d/%d iteration %d/%d loss %.4f (%.0f images/s)",
                    epoch,
                    settings.epochs,
                    done,
                    iters_per_epoch,
                    mean_loss,
                    rate,
                )
        preds = predict(model, val_inputs, settings.eval_batch_size)
        accuracy = 100.0 * (preds == val_targets).double().mean().item()
        history["val_accuracy"].append(accuracy)
        history["epoch_seconds"].append(time.perf_counter() - started)
        log.info(
            "epoch %d/%d done in %.1f s: val accuracy %.2f %%",
            epoch,
            settings.epochs,
            history["epoch_seconds"][-1],
            accuracy,
        )
        if checkpoint is not None:
            _save_checkpoint(
                checkpoint,
                {
                    "fingerprint": fp,
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "generator": generator.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "history": history,
                },
            )
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    return model, history
