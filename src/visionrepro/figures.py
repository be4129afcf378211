"""Figures of the report: loss curves, confusion matrices, accuracies, sample images."""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import atomic_path


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


def sample_grid(dataset: ArrayDataset, per_class: int = 3) -> Figure:
    """The first `per_class` training images of every class, one row per class."""
    classes = dataset.classes
    fig = Figure(figsize=(1.6 * per_class, 1.6 * len(classes)), layout="constrained")
    axes = fig.subplots(len(classes), per_class, squeeze=False)
    for label, name in enumerate(classes):
        picks = np.flatnonzero(dataset.labels == label)[:per_class]
        for col, ax in enumerate(axes[label]):
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(picks):
                ax.imshow(dataset.images[picks[col]].transpose(1, 2, 0))
                ax.set_xlabel(f"id {dataset.ids[picks[col]]}", fontsize=7)
        axes[label][0].set_ylabel(name)
    return fig


def save(fig: Figure, path: str) -> None:
    """Save a figure as PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
