"""The training engine: the whole split in memory, batches by indexing, a checkpoint per epoch.

One loop serves classification (a label per image) and segmentation (a mask per image): the
targets are gathered with the same index as the images, so a mirrored image gets its mirrored mask.

Compared with a per-item Dataset + DataLoader, the maths are the same (same model, batch size,
optimizer, flips with probability p, normalisation) but the images are converted and normalised
once, each batch (flipped or not) is gathered with one index operation from a bank of the images
and their mirror images, convolutions run channels-last and Adam runs fused.

torchvision and scikit-learn are imported where they are needed (grey conversion, colour jitter,
segmentation scores): a workflow runs many short jobs, and those imports double a job's start-up.
"""

import hashlib
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import atomic_path
from visionrepro.losses import LOSSES, make_loss
from visionrepro.models import build_network
from visionrepro.registry import network_source

log = logging.getLogger(__name__)

COLORS = ("rgb", "gray", "gray_mean")
TASKS = ("classification", "segmentation", "colorization")
OPTIMIZERS = ("adam", "sgd")
DENSE_TASKS = ("segmentation", "colorization")  # a class per pixel


@dataclass(frozen=True)
class TrainSettings:
    """Hyperparameters of one training run (the experiment's `train` config, colour and task).

    `mean`/`std` "train" are computed from the training images (per channel) at the start.
    `color`: rgb keeps the channels; gray makes 3-channel images grey (still 3 channels) and
    keeps 1-channel ones; gray_mean gives 1 channel, the mean of R, G and B (colourization).
    """

    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.0
    weight_decay: float = 0.0
    shuffle: bool = True
    hflip: float = 0.5
    color_jitter: tuple[float, float, float] | None = None
    mean: float | str | tuple[float, ...] = 0.5
    std: float | str | tuple[float, ...] = 0.5
    loss: str = "cross_entropy"
    color: str = "rgb"
    task: str = "classification"
    log_every: int = 100
    grad_steps: int = 0
    eval_batch_size: int = 256

    def __post_init__(self) -> None:
        for key, value, allowed in (
            ("color", self.color, COLORS),
            ("task", self.task, TASKS),
            ("loss", self.loss, LOSSES),
            ("optimizer", self.optimizer, OPTIMIZERS),
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


def _to_color(x: Tensor, color: str) -> Tensor:
    """Float images in [0, 1] in the run's colour (see TrainSettings)."""
    if color == "gray" and x.shape[1] == 3:
        from torchvision.transforms.v2.functional import rgb_to_grayscale

        return rgb_to_grayscale(x, num_output_channels=3)
    if color == "gray_mean":
        return x.mean(dim=1, keepdim=True)
    return x


def input_channels(channels: int, color: str) -> int:
    """Channels of the network's input for images with `channels` channels."""
    return 1 if color == "gray_mean" else channels


def resolve_normalization(settings: TrainSettings, images: np.ndarray) -> TrainSettings:
    """The settings with `mean`/`std` "train" replaced by the per-channel mean/std of `images`."""
    if "train" not in (settings.mean, settings.std):
        return settings
    x = torch.as_tensor(images)
    channels = input_channels(x.shape[1], settings.color)
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    for start in range(0, len(x), 4096):
        batch = _to_color(x[start : start + 4096].float().div_(255), settings.color).double()
        total += batch.sum(dim=(0, 2, 3))
        squares += batch.square().sum(dim=(0, 2, 3))
    count = len(x) * x.shape[2] * x.shape[3]
    mean = total / count
    std = (squares / count - mean.square()).sqrt()
    values = {"mean": tuple(mean.tolist()), "std": tuple(std.tolist())}
    return replace(settings, **{k: values[k] for k in values if getattr(settings, k) == "train"})


def to_model_input(
    images: np.ndarray | Tensor,
    settings: TrainSettings,
    *,
    mirrors: bool = False,
    normalize: bool = True,
    chunk: int = 1024,
) -> Tensor:
    """uint8 N x C x H x W -> float in [0, 1], in the run's colour, normalised, channels-last.

    With `mirrors`, rows N..2N-1 hold the horizontally flipped images, so that a batch, flipped
    or not, is gathered with one index operation (row i, or row i + N for its mirror image).
    Without `normalize` the values stay in [0, 1] (for colour jitter, which works on those).
    """
    images = torch.as_tensor(images)
    n, c, h, w = images.shape
    shape = (2 * n if mirrors else n, input_channels(c, settings.color), h, w)
    out = torch.empty(shape, memory_format=torch.channels_last)
    for start in range(0, n, chunk):
        x = _to_color(images[start : start + chunk].float().div_(255), settings.color)
        if normalize:
            x = normalize_input(x, settings)
        out[start : start + len(x)] = x
        if mirrors:
            out[n + start : n + start + len(x)] = x.flip(-1)
    return out


def normalize_input(x: Tensor, settings: TrainSettings) -> Tensor:
    """(x - mean) / std, per channel."""
    return (x - _per_channel(settings.mean, x)) / _per_channel(settings.std, x)


def _per_channel(value: float | str | tuple[float, ...], like: Tensor) -> Tensor:
    """A scalar, or one value per channel shaped to broadcast over C x H x W."""
    if isinstance(value, str):
        raise ValueError("mean/std 'train' must be resolved first (resolve_normalization)")
    return torch.tensor(value, dtype=like.dtype, device=like.device).reshape(-1, 1, 1)


def color_jitter(x: Tensor, strength: tuple[float, float, float]) -> Tensor:
    """torchvision's ColorJitter(brightness, contrast, saturation), drawn anew for every image."""
    from torchvision.transforms.v2 import ColorJitter

    jitter = ColorJitter(*strength)
    return torch.stack([jitter(image) for image in x])


def to_targets(dataset: ArrayDataset, settings: TrainSettings, *, mirrors: bool = False) -> Tensor:
    """The training targets: labels (int64), or uint8 masks for segmentation (rows N..2N-1: the
    mirror images')."""
    if settings.task == "classification":
        labels = torch.as_tensor(dataset.labels)
        return torch.cat([labels, labels]) if mirrors else labels
    if dataset.masks is None:
        raise ValueError(f"a {settings.task} run needs a dataset with masks (per-pixel targets)")
    masks = torch.as_tensor(dataset.masks)
    return torch.cat([masks, masks.flip(-1)]) if mirrors else masks


def target_classes(dataset: ArrayDataset, task: str) -> tuple[str, ...]:
    """What the network predicts: the dataset's classes, or the mask classes per pixel."""
    return dataset.mask_classes if task in DENSE_TASKS else dataset.classes


def epoch_scores(
    preds: Tensor, targets: Tensor, dataset: ArrayDataset, settings: TrainSettings
) -> dict[str, float]:
    """The per-epoch evaluation scores (`targets`: `to_targets` of the split), in %: accuracy,
    mIoU and pixel accuracy (segmentation), or pixel accuracy (colorization)."""
    accuracy = 100.0 * (preds == targets).double().mean().item()
    if settings.task == "classification":
        return {"accuracy": accuracy}
    if settings.task == "colorization":
        return {"pixel_accuracy": accuracy}
    from visionrepro.metrics import segmentation_metrics

    scores = segmentation_metrics(
        targets.numpy(), preds.numpy(), dataset.mask_classes, dataset.mask_values
    )
    return {k: scores[k] for k in ("miou", "pixel_accuracy")}


def _channels_last(x: Tensor) -> Tensor:
    return x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x


def predict(model: nn.Module, inputs: Tensor, batch_size: int = 256) -> Tensor:
    """Arg-max predictions of `model` for prepared inputs (on the model's device)."""
    return predict_with_loss(model, inputs, batch_size=batch_size)[0]


def predict_with_loss(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor | None = None,
    loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
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
            batch = _channels_last(inputs[start : start + batch_size].to(device))
            out = model(batch)
            preds.append(out.argmax(1).cpu())
            if targets is not None and loss_fn is not None:
                y = targets[start : start + batch_size].to(device).long()
                total += loss_fn(out, y).item() * len(batch)
    loss = total / len(inputs) if targets is not None and loss_fn is not None else math.nan
    return torch.cat(preds), loss


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
    monitor: str = "val",
) -> tuple[nn.Module, dict[str, Any]]:
    """Train `network` and return it with its history (loss curve, per-epoch scores).

    `val_set` is evaluated after every epoch; its scores are recorded as `{monitor}_<score>`
    ("val" for a held-out split, "test" when the write-up monitors the test set).
    `network_options` go to the network's constructor (e.g. the ladder's dropout).

    A checkpoint is written after every epoch; a later call with the same arguments resumes
    from it and ends with exactly the same model and history as an uninterrupted run.
    """
    seed_everything(seed)
    settings = resolve_normalization(settings, train_set.images)
    options = dict(network_options or {})
    num_classes = len(target_classes(train_set, settings.task))
    model = build_network(network, num_classes, **options)
    model = model.to(device=device, memory_format=torch.channels_last)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], settings)
    loss_fn = make_loss(settings.loss)
    generator = torch.Generator().manual_seed(seed)
    history: dict[str, Any] = {
        "loss": [],
        "epoch_seconds": [],
        "normalization": {"mean": settings.mean, "std": settings.std},
    }
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

    jitter = settings.color_jitter
    mirrors = settings.hflip > 0
    bank = to_model_input(train_set.images, settings, mirrors=mirrors, normalize=not jitter)
    bank = bank.to(device)
    targets = to_targets(train_set, settings, mirrors=mirrors).to(device)
    val_inputs = to_model_input(val_set.images, settings).to(device)
    val_targets = to_targets(val_set, settings)
    n = len(train_set)
    iters_per_epoch = math.ceil(n / settings.batch_size)
    log.info(
        "training %s (seed %d) on %s: %d train / %d %s images, %d epochs x %d iterations",
        network,
        seed,
        device,
        n,
        len(val_set),
        monitor,
        settings.epochs,
        iters_per_epoch,
    )

    for epoch in range(start_epoch, settings.epochs + 1):
        model.train()
        started = time.perf_counter()
        order = torch.randperm(n, generator=generator) if settings.shuffle else torch.arange(n)
        flips = (torch.rand(n, generator=generator) < settings.hflip).long()
        rows = (order + flips[order] * n).to(device)  # each image's row, or its mirror's
        running = torch.zeros((), device=device)
        epoch_loss = torch.zeros((), device=device, dtype=torch.float64)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        for it in range(iters_per_epoch):
            batch = slice(it * settings.batch_size, (it + 1) * settings.batch_size)
            optimizer.zero_grad(set_to_none=True)
            index = rows[batch]
            x = bank[index]
            if jitter:
                x = _channels_last(normalize_input(color_jitter(x, jitter), settings))
            y = targets[index].long()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            step = (epoch - 1) * iters_per_epoch + it
            if step < settings.grad_steps:
                history.setdefault("grad_mean", []).append(gradient_mean(model))
            optimizer.step()
            running += loss.detach()
            epoch_loss += loss.detach() * len(index)
            if settings.task == "classification":
                correct += (out.detach().argmax(1) == y).sum()
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
        scores = {"train_loss": epoch_loss.item() / n}
        if settings.task == "classification":
            scores["train_accuracy"] = 100.0 * correct.item() / n
        preds, val_loss = predict_with_loss(
            model, val_inputs, val_targets, loss_fn, settings.eval_batch_size
        )
        scores[f"{monitor}_loss"] = val_loss
        for key, value in epoch_scores(preds, val_targets, val_set, settings).items():
            scores[f"{monitor}_{key}"] = value
        for key, value in scores.items():
            history.setdefault(key, []).append(value)
        history["epoch_seconds"].append(time.perf_counter() - started)
        log.info(
            "epoch %d/%d done in %.1f s: %s",
            epoch,
            settings.epochs,
            history["epoch_seconds"][-1],
            ", ".join(f"{k.replace('_', ' ')} {v:.4g}" for k, v in scores.items()),
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
