"""The settings of one training run: an experiment's `train` config, its colour and its task."""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from visionrepro.engine.losses import LOSSES
from visionrepro.engine.precision import PRECISIONS
from visionrepro.tasks import TASKS, Task

COLORS = ("rgb", "gray", "gray_mean")
OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class TrainSettings:
    """Hyperparameters of one training run (the experiment's `train` config, colour and task).

    `mean`/`std` "train" are computed from the training images (per channel) at the start.
    `color`: rgb keeps the channels; gray makes 3-channel images grey (still 3 channels) and
    keeps 1-channel ones; gray_mean gives 1 channel, the mean of R, G and B (colourization).
    `precision`: fp32, or bf16/fp16 autocast with fp32 weights (`visionrepro.engine.precision`).
    """

    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.0
    weight_decay: float = 0.0
    shuffle: bool | str = True  # True: every epoch; False: dataset order; "once"
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
    precision: str = "fp32"

    @property
    def kind(self) -> Task:
        """The record of the run's task (tasks.py)."""
        return TASKS[self.task]

    def __post_init__(self) -> None:
        for key, value, allowed in (
            ("color", self.color, COLORS),
            ("task", self.task, tuple(TASKS)),
            ("loss", self.loss, LOSSES),
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("precision", self.precision, PRECISIONS),
        ):
            if value not in allowed:
                raise ValueError(f"{key} must be one of {allowed}, got {value!r}")
        if self.shuffle not in (True, False, "once"):
            raise ValueError(f"shuffle must be true, false or once, got {self.shuffle!r}")

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
