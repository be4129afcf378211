"""What each task is, as records: which networks fit it, what its runs predict and read, its
figures and its headline metric. Code that differs by task asks the record, not the name.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    """One task: its name, the registry task of the networks that fit it, whether its runs
    predict per pixel (`dense`: evaluation writes predicted_masks.npz), train on packed masks
    (`masks`) or on a palette learnt per run (`palette`), the figures every experiment of it
    has, and its headline metric (`{split}` is the experiment's evaluation split)."""

    name: str
    networks: str
    dense: bool
    masks: bool
    palette: bool
    figures: tuple[str, ...]
    metric: str

    def headline_metric(self, eval_split: str) -> str:
        """The metric of the verdicts and the headline figure: accuracy, mIoU or pixel accuracy."""
        return self.metric.format(split=eval_split)


TASKS: dict[str, Task] = {
    "classification": Task(
        "classification",
        networks="classification",
        dense=False,
        masks=False,
        palette=False,
        figures=("headline", "loss", "confusion"),
        metric="{split}_accuracy",
    ),
    "segmentation": Task(
        "segmentation",
        networks="segmentation",
        dense=True,
        masks=True,
        palette=False,
        figures=("headline", "loss", "per_class_iou"),
        metric="miou",
    ),
    "colorization": Task(
        "colorization",
        networks="segmentation",
        dense=True,
        masks=False,
        palette=True,
        figures=("headline", "loss"),
        metric="pixel_accuracy",
    ),
}


def task(name: str) -> Task:
    """The record of task `name`."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; tasks: {sorted(TASKS)}") from None
