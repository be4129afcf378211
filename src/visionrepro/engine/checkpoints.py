"""What a training run leaves on disk: the state saved after every epoch (and resumed from), the
trained model (`model.pt`), and the log of interrupted attempts kept beside the checkpoint.

Everything is written with `torch.save` from tensors and plain Python values and read back with
`torch.load(..., weights_only=True)`: a file holding anything else is refused, never executed.
"""

import fcntl
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from visionrepro.code_inputs import CODE
from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.errors import UserError
from visionrepro.fileio import atomic_path
from visionrepro.models import build_network
from visionrepro.networks import parse_network
from visionrepro.registry import PACKAGE_DIR

log = logging.getLogger(__name__)


def global_rng_states() -> dict[str, Any]:
    """The global generators an epoch draws from (dropout, colour jitter): torch's CPU generator
    and, when CUDA is available, every CUDA device's."""
    states: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_global_rng_states(states: Mapping[str, Any]) -> None:
    """Restore what `global_rng_states` returned."""
    torch.set_rng_state(states["cpu"])
    if torch.cuda.is_available() and "cuda" in states:
        torch.cuda.set_rng_state_all(states["cuda"])


@dataclass
class TrainState:
    """A run in progress: everything an epoch changes, saved after each and restored as a whole."""

    network: str
    network_options: dict[str, Any]
    settings: TrainSettings  # resolved: mean/std "train" replaced by the training set's values
    model: nn.Module
    optimizer: torch.optim.Optimizer
    generator: torch.Generator  # each epoch's order and flips
    history: dict[str, Any] = field(default_factory=dict)
    epoch: int = 0  # epochs done
    scaler: torch.amp.GradScaler | None = None  # fp16's gradient scaler (None: no scaling)

    def state_dict(self) -> dict[str, Any]:
        """The state as tensors and plain values (loadable with weights_only=True)."""
        return {
            "epoch": self.epoch,
            "settings": asdict(self.settings),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "rng": global_rng_states(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "history": self.history,
        }

    def load_state_dict(self, saved: Mapping[str, Any]) -> None:
        """Continue from a `state_dict()`: weights, optimizer, generators, history, epoch."""
        self.settings = TrainSettings(**saved["settings"])
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.generator.set_state(saved["generator"])
        set_global_rng_states(saved["rng"])
        if self.scaler is not None and saved["scaler"]:
            self.scaler.load_state_dict(saved["scaler"])
        self.history = saved["history"]
        self.epoch = saved["epoch"]


# The library modules a training run executes (the train rule's code inputs, code_inputs.py): a
# checkpoint written by other code is not resumed. The train job passes the rule's own list.
TRAINING_CODE = CODE["train"]


def training_code() -> list[Path]:
    """The files of TRAINING_CODE in this installation."""
    return [PACKAGE_DIR / f"{module}.py" for module in TRAINING_CODE]


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _code_name(path: str | Path) -> str:
    """A code file's name in a fingerprint: relative to the package, else to the project (the
    working directory) when inside it, so that moving the project changes no name."""
    resolved = Path(path).resolve()
    for root in (PACKAGE_DIR, Path.cwd().resolve()):
        if resolved.is_relative_to(root):
            return resolved.relative_to(root).as_posix()
    return Path(path).as_posix()


def fingerprint(
    network: str,
    seed: int,
    settings: TrainSettings,
    train: ArrayDataset,
    val: ArrayDataset,
    options: Mapping[str, Any],
    code: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """Identify a run by its parts (settings, data, code files), so that a checkpoint is only
    resumed by the very same run and a mismatch can say what differs."""
    data = hashlib.sha256()
    for split in (train, val):
        for array in (split.images, split.labels, split.masks):
            if array is not None:
                data.update(np.ascontiguousarray(array).tobytes())
    paths = [*(code or training_code()), parse_network(network).source_file()]
    files = {_code_name(path): file_digest(path) for path in paths}
    return {
        "settings": repr(
            (network, seed, sorted(asdict(settings).items()), sorted(options.items()))
        ),
        "data": data.hexdigest(),
        "code": dict(sorted(files.items())),
    }


def mismatch(saved: Any, fp: Mapping[str, Any]) -> str:
    """Why a checkpoint's fingerprint is not this run's ("" when it is)."""
    if not isinstance(saved, Mapping) or set(saved) != set(fp):
        return "it was written by an older version of the workflow"
    reasons = []
    if saved["settings"] != fp["settings"]:
        reasons.append("the run's settings differ")
    if saved["data"] != fp["data"]:
        reasons.append("the data differs")
    files = saved["code"], fp["code"]
    changed = sorted(p for p in set(files[0]) | set(files[1]) if files[0].get(p) != files[1].get(p))
    if changed:
        reasons.append(f"the code changed since it was written ({', '.join(changed)})")
    return "; ".join(reasons)


def _gist(err: BaseException) -> str:
    """torch.load's error in short: the object a refused pickle holds, else its first sentence."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    refused = [line for line in lines if "GLOBAL" in line or line.startswith("Unsupported")]
    return (refused or lines or [type(err).__name__])[0].split(". ")[0]


def _load(path: Path) -> Any:
    """torch.load restricted to tensors and plain values."""
    return torch.load(path, map_location="cpu", weights_only=True)


def save_checkpoint(path: Path, state: TrainState, fp: Mapping[str, Any]) -> None:
    """Write the state after an epoch, atomically."""
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        torch.save({"fingerprint": fp, **state.state_dict()}, fh)


def resume(state: TrainState, path: Path, fp: Mapping[str, Any]) -> None:
    """Continue `state` from the checkpoint at `path` if it is this run's (same fingerprint);
    a missing, unreadable or foreign checkpoint is ignored and the run starts afresh."""
    if not path.exists():
        return
    try:
        saved = _load(path)
    except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is discarded
        log.warning("ignoring unreadable checkpoint %s (%s); starting afresh", path, _gist(err))
        return
    why = mismatch(saved.get("fingerprint") if isinstance(saved, dict) else None, fp)
    if why:
        log.warning(
            "ignoring checkpoint %s: it belongs to another configuration or dataset or code (%s);"
            " starting afresh",
            path,
            why,
        )
        return
    state.load_state_dict(saved)
    log.info(
        "resuming %s from the checkpoint after epoch %d of %d",
        state.network,
        state.epoch,
        state.settings.epochs,
    )


@dataclass(frozen=True)
class TrainedModel:
    """The content of `model.pt`: the network, its weights, its classes and the resolved
    settings it was trained with (which evaluation uses)."""

    network: str
    network_options: dict[str, Any]
    classes: list[str]
    settings: TrainSettings
    state_dict: dict[str, Any]

    def build(self) -> nn.Module:
        """The trained network, on the CPU (without a pretrained-weights file: the weights are
        all in the state dict)."""
        options = {k: v for k, v in self.network_options.items() if k != "weights_path"}
        model = build_network(self.network, len(self.classes), **options)
        model.load_state_dict(self.state_dict)
        return model


def save_trained(path: str | Path, state: TrainState, classes: tuple[str, ...]) -> None:
    """Write `model.pt`, atomically."""
    content = {
        "network": state.network,
        "network_options": dict(state.network_options),
        "classes": list(classes),
        "settings": asdict(state.settings),
        "state_dict": state.model.state_dict(),
    }
    # To an open file: a full disk is then "No space left on device" naming the file, where
    # torch.save to a path says "enforce fail ... unexpected pos".
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        torch.save(content, fh)


def load_trained(path: str | Path) -> TrainedModel:
    """Read `model.pt`; a truncated, foreign or unsafe file is an error naming it."""
    try:
        saved = _load(Path(path))
        return TrainedModel(
            network=saved["network"],
            network_options=saved["network_options"],
            classes=saved["classes"],
            settings=TrainSettings(**saved["settings"]),
            state_dict=saved["state_dict"],
        )
    except Exception as err:  # noqa: BLE001 - any unreadable model file gets the same advice
        raise UserError(
            f"{path} is not a model file this workflow wrote ({_gist(err)}); retrain it: "
            f"`snakemake --cores all --forcerun {path}`"
        ) from err


# What evaluating a run writes beside its model (rules evaluate and evaluate_dense).
EVALUATION_FILES = ("metrics.json", "predictions.csv", "predicted_masks.npz")


def discard_evaluation(run_dir: Path) -> None:
    """Remove the evaluation files of a run that is being trained again: they describe the
    model it replaces, and a failed training must not leave them behind as if current."""
    for name in EVALUATION_FILES:
        path = Path(run_dir) / name
        if path.exists():
            path.unlink()
            log.info("removed %s: it describes the model this run replaces", path)


def attempt_log(checkpoint: Path) -> Path:
    """The log of a run's attempts so far, beside its checkpoint."""
    return checkpoint.with_suffix(".log")


def continue_attempt_log(checkpoint: Path) -> logging.Handler:
    """Show the log of the run's interrupted attempts in this job's log, and append this
    attempt's records to it (Snakemake deletes a job's log file before the job starts); the
    file stays locked (flock) until `finish_run` or the process ends."""
    history = attempt_log(checkpoint)
    if history.exists():
        earlier = history.read_text().rstrip("\n")
        log.info("the log of this run's earlier, interrupted attempts (%s):\n%s", history, earlier)
    history.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(history, mode="a")
    try:  # held while the run trains: `visionrepro.status` tells running from interrupted
        fcntl.flock(handler.stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.warning("%s is locked: another job is training this run", history)
    root = logging.getLogger()
    handler.setFormatter(root.handlers[0].formatter if root.handlers else None)
    root.addHandler(handler)
    return handler


def finish_run(checkpoint: Path, handler: logging.Handler) -> None:
    """Remove the checkpoint and the attempt log of a run whose outputs are written."""
    logging.getLogger().removeHandler(handler)
    handler.close()
    checkpoint.unlink(missing_ok=True)
    attempt_log(checkpoint).unlink(missing_ok=True)
