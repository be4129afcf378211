"""Figures of the report: loss curves, confusion matrices, accuracies, per-class IoU, sample
images (with their masks) and segmentation predictions."""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from sklearn.metrics import ConfusionMatrixDisplay

from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import atomic_path


def curves_by_network(histories: Sequence[Mapping]) -> dict[str, list[pd.DataFrame]]:
    """The loss logs of training runs (train.json records), grouped by network."""
    curves: dict[str, list[pd.DataFrame]] = {}
    for run in histories:
        curves.setdefault(run["network"], []).append(pd.DataFrame(run["history"]["loss"]))
    return curves


def loss_curves(curves: Mapping[str, Sequence[pd.DataFrame]], title: str) -> Figure:
    """Training loss per network: mean over seeds, with a band from the lowest to the highest."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for network, runs in curves.items():
        table = pd.concat([r.set_index("iteration")["loss"] for r in runs], axis=1)
        mean = table.mean(axis=1)
        (line,) = ax.plot(mean.index, mean.to_numpy(), label=f"{network} ({len(runs)} seeds)")
        if len(runs) > 1:
            ax.fill_between(
                mean.index,
                table.min(axis=1),
                table.max(axis=1),
                color=line.get_color(),
                alpha=0.2,
                linewidth=0,
            )
    ax.set(
        xlabel="iteration", ylabel="training loss (mean of the last logging window)", title=title
    )
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def confusion_matrices(
    matrices: Mapping[str, np.ndarray], classes: Sequence[str], title: str
) -> Figure:
    """One confusion matrix per network (rows: true class, columns: predicted)."""
    fig = Figure(figsize=(4.2 * len(matrices), 4.2), layout="constrained")
    axes = fig.subplots(1, len(matrices), squeeze=False)
    for ax, (network, matrix) in zip(axes[0], matrices.items(), strict=True):
        ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(classes)).plot(
            ax=ax, colorbar=False, xticks_rotation=45, cmap="Blues"
        )
        ax.set_title(network)
    fig.suptitle(title)
    return fig


def metric_bars(summary: pd.DataFrame, metric: str, ylabel: str) -> Figure:
    """Mean over seeds per (experiment, network) with std error bars and reference markers."""
    table = summary[summary["metric"] == metric]
    experiments = list(dict.fromkeys(table["experiment"]))
    networks = list(dict.fromkeys(table["network"]))
    width = 0.8 / len(experiments)
    x = np.arange(len(networks))
    fig = Figure(figsize=(max(6, 1.6 * len(networks)), 4.2), layout="constrained")
    ax = fig.subplots()
    for i, experiment in enumerate(experiments):
        rows = table[table["experiment"] == experiment].set_index("network").reindex(networks)
        pos = x + (i - (len(experiments) - 1) / 2) * width
        ax.bar(pos, rows["mean"], width, yerr=rows["std"], capsize=4, label=experiment)
        ref = rows["reference"].to_numpy(dtype=float)
        ax.scatter(
            pos,
            ref,
            marker="_",
            s=400,
            color="black",
            zorder=3,
            label="reference" if i == 0 else None,
        )
    ax.set_xticks(x, networks)
    ax.set(ylabel=ylabel, title=f"{ylabel}: mean ± std over seeds")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return fig


def mask_colours(n_classes: int) -> np.ndarray:
    """RGB colours (uint8) of mask values 0..n_classes-1: black background, then tab10."""
    colours = np.array([(0, 0, 0), *colormaps["tab10"].colors[: n_classes - 1]]) * 255
    return colours.round().astype(np.uint8)


def overlay(image: np.ndarray, mask: np.ndarray, n_classes: int, alpha: float = 0.5) -> np.ndarray:
    """An image (3 x H x W) with its mask's objects tinted in their class colours (H x W x 3)."""
    rgb = image.transpose(1, 2, 0).astype(float)
    tint = mask_colours(n_classes)[mask].astype(float)
    on = (mask > 0)[..., None]
    return np.where(on, (1 - alpha) * rgb + alpha * tint, rgb).round().astype(np.uint8)


def _blank(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def sample_grid(dataset: ArrayDataset, per_class: int = 3, with_masks: bool = False) -> Figure:
    """The first `per_class` training images of every class, one row per class; `with_masks`
    tints each image's mask over it."""
    classes = dataset.classes
    fig = Figure(figsize=(1.6 * per_class, 1.6 * len(classes)), layout="constrained")
    axes = fig.subplots(len(classes), per_class, squeeze=False)
    for label, name in enumerate(classes):
        picks = np.flatnonzero(dataset.labels == label)[:per_class]
        for col, ax in enumerate(axes[label]):
            _blank(ax)
            if col < len(picks):
                image = dataset.images[picks[col]]
                if with_masks:
                    n = len(dataset.mask_classes)
                    ax.imshow(overlay(image, dataset.masks[picks[col]], n))
                else:
                    ax.imshow(image.transpose(1, 2, 0))
                ax.set_xlabel(f"id {dataset.ids[picks[col]]}", fontsize=7)
        axes[label][0].set_ylabel(name)
    return fig


def per_class_iou(table: pd.DataFrame, title: str) -> Figure:
    """IoU per class (x) and network (bars): `table` has network, class, iou (mean over seeds)."""
    wide = table.pivot_table(index="class", columns="network", values="iou", sort=False)
    fig = Figure(figsize=(max(6, 1.3 * len(wide)), 4.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(wide.columns)
    x = np.arange(len(wide))
    for i, network in enumerate(wide.columns):
        ax.bar(x + (i - (len(wide.columns) - 1) / 2) * width, wide[network], width, label=network)
    ax.set_xticks(x, wide.index)
    ax.set(ylabel="IoU (val, mean over seeds)", ylim=(0, 1), title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return fig


def segmentation_examples(
    dataset: ArrayDataset, predictions: Mapping[str, np.ndarray], per_class: int = 1
) -> Figure:
    """Val images (rows: `per_class` per class), their true masks and each network's prediction,
    as label maps in the class colours (background black)."""
    picks = np.concatenate(
        [
            np.flatnonzero(dataset.labels == label)[:per_class]
            for label in range(len(dataset.classes))
        ]
    )
    colours = mask_colours(len(dataset.mask_classes))
    columns = ["image", "truth", *predictions]
    fig = Figure(figsize=(1.6 * len(columns), 1.6 * len(picks) + 0.6), layout="constrained")
    axes = fig.subplots(len(picks), len(columns), squeeze=False)
    for row, i in enumerate(picks):
        panels = [
            dataset.images[i].transpose(1, 2, 0),
            colours[dataset.masks[i]],
            *(colours[masks[i]] for masks in predictions.values()),
        ]
        for col, (ax, panel) in enumerate(zip(axes[row], panels, strict=True)):
            _blank(ax)
            ax.imshow(panel)
            if row == 0:
                ax.set_title(columns[col], fontsize=8)
        axes[row][0].set_ylabel(dataset.classes[dataset.labels[i]], fontsize=8)
    handles = [
        Patch(color=colours[c] / 255, label=name) for c, name in enumerate(dataset.mask_classes)
    ]
    fig.legend(handles=handles[1:], loc="outside lower center", ncols=len(handles) - 1, fontsize=7)
    return fig


def save(fig: Figure, path: str) -> None:
    """Save a figure as PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
