"""The training engine: the whole split in memory, batches by indexing, a checkpoint per epoch.

One loop serves classification (a label per image) and segmentation (a mask per image): the
targets are gathered with the same index as the images, so a mirrored image gets its mirrored mask.

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
from visionrepro.losses import LOSSES, make_loss
from visionrepro.metrics import segmentation_metrics
from visionrepro.models import build_network
from visionrepro.registry import network_source

log = logging.getLogger(__name__)

COLORS = ("rgb", "gray")
TASKS = ("classification", "segmentation")


@dataclass(frozen=True)
class TrainSettings:
    """Hyperparameters of one training run (the experiment's `train` config, colour and task)."""

    epochs: int
    batch_size: int
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    hflip: float = 0.5
    mean: float | tuple[float, ...] = 0.5
    std: float | tuple[float, ...] = 0.5
    loss: str = "cross_entropy"
    color: str = "rgb"
    task: str = "classification"
    log_every: int = 100
    eval_batch_size: int = 256

    def __post_init__(self) -> None:
        for key, value, allowed in (
            ("color", self.color, COLORS),
            ("task", self.task, TASKS),
            ("loss", self.loss, LOSSES),
        ):
            if value not in allowed:
                raise ValueError(f"{key} must be one of {allowed}, got {value!r}")

    @classmethod
    def from_config(
        cls, train: Mapping[str, Any], color: str = "rgb", task: str = "classification"
    ) -> "TrainSettings":
        """Build from an experiment's `train` mapping; keys the engine does not know are errors."""
        known = {f.name for f in fields(cls)} - {"color", "task"}
        unknown = set(train) - known
        if unknown:
            raise KeyError(f"unknown train settings {sorted(unknown)}; known: {sorted(known)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in train.items()}
        return cls(**values, color=color, task=task)


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
        x = (x - _per_channel(settings.mean)) / _per_channel(settings.std)
        out[start : start + len(x)] = x
        if mirrors:
            out[n + start : n + start + len(x)] = x.flip(-1)
    return out


def _per_channel(value: float | tuple[float, ...]) -> Tensor:
    """A scalar, or one value per channel shaped to broadcast over C x H x W."""
    return torch.tensor(value).reshape(-1, 1, 1)


def to_targets(dataset: ArrayDataset, settings: TrainSettings, *, mirrors: bool = False) -> Tensor:
    """The training targets: labels (int64), or uint8 masks for segmentation (rows N..2N-1: the
    mirror images')."""
    if settings.task == "classification":
        labels = torch.as_tensor(dataset.labels)
        return torch.cat([labels, labels]) if mirrors else labels
    if dataset.masks is None:
        raise ValueError("a segmentation run needs a dataset with masks")
    masks = torch.as_tensor(dataset.masks)
    return torch.cat([masks, masks.flip(-1)]) if mirrors else masks


def target_classes(dataset: ArrayDataset, task: str) -> tuple[str, ...]:
    """What the network predicts: the dataset's classes, or background + them per pixel."""
    return dataset.mask_classes if task == "segmentation" else dataset.classes


def val_scores(
    preds: Tensor, targets: Tensor, dataset: ArrayDataset, settings: TrainSettings
) -> dict[str, float]:
    """The per-epoch validation scores (`targets`: `to_targets` of the val split): accuracy, or
    mIoU and pixel accuracy (all in %)."""
    if settings.task == "classification":
        return {"val_accuracy": 100.0 * (preds == targets).double().mean().item()}
    scores = segmentation_metrics(
        targets.numpy(), preds.numpy(), dataset.mask_classes, dataset.mask_values
    )
    return {f"val_{k}": scores[k] for k in ("miou", "pixel_accuracy")}


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
    network: str,
    seed: int,
    settings: TrainSettings,
    train: ArrayDataset,
    val: ArrayDataset,
    options: Mapping[str, Any],
) -> str:
    """Identify a run, so that a checkpoint is only resumed by the very same run."""
    digest = hashlib.sha256()
    digest.update(network_source(network).read_bytes())
    digest.update(
        repr((network, seed, sorted(asdict(settings).items()), sorted(options.items()))).encode()
    )
    for data in (train, val):
        for array in (data.images, data.labels, data.masks):
            if array is not None:
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
    network_options: Mapping[str, Any] | None = None,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train `network` and return it with its history (loss curve, val scores per epoch).

    `network_options` go to the network's constructor (e.g. deeplabv3's pretrained weights).

    A checkpoint is written after every epoch; a later call with the same arguments resumes
    from it and ends with exactly the same model and history as an uninterrupted run.
    """
    seed_everything(seed)
    options = dict(network_options or {})
    num_classes = len(target_classes(train_set, settings.task))
    model = build_network(network, num_classes, **options)
    model = model.to(device=device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad],
        lr=settings.lr,
        betas=settings.betas,
        weight_decay=settings.weight_decay,
        fused=True,
    )
    loss_fn = make_loss(settings.loss)
    generator = torch.Generator().manual_seed(seed)
    history: dict[str, Any] = {"loss": [], "epoch_seconds": []}
    start_epoch = 1

    fp = fingerprint(network, seed, settings, train_set, val_set, options) if checkpoint else ""
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
    targets = to_targets(train_set, settings, mirrors=settings.hflip > 0).to(device)
    val_inputs = to_model_input(val_set.images, settings).to(device)
    val_targets = to_targets(val_set, settings)
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
        running = torch.zeros((), device=device)
        for it in range(iters_per_epoch):
            batch = slice(it * settings.batch_size, (it + 1) * settings.batch_size)
            optimizer.zero_grad(set_to_none=True)
            index = rows[batch]
            loss = loss_fn(model(bank[index]), targets[index].long())
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
        scores = val_scores(preds, val_targets, val_set, settings)
        for key, value in scores.items():
            history.setdefault(key, []).append(value)
        history["epoch_seconds"].append(time.perf_counter() - started)
        log.info(
            "epoch %d/%d done in %.1f s: %s",
            epoch,
            settings.epochs,
            history["epoch_seconds"][-1],
            ", ".join(f"{k.replace('_', ' ')} {v:.2f} %" for k, v in scores.items()),
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
