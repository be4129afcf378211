"""Figures of the report: loss and training curves, gradient means, confusion matrices, metrics
per variant, per-class IoU, sample images (with their masks), misclassified images, segmentation
and colourization predictions."""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from sklearn.metrics import ConfusionMatrixDisplay

from visionrepro.colour import nearest_colour
from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import atomic_path


def by_variant(runs: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Run records (train.json or metrics.json) grouped by variant, in order of appearance."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for run in runs:
        groups.setdefault(run["variant"], []).append(run)
    return groups


def monitored_split(history: Mapping[str, Any]) -> str | None:
    """The split scored after every epoch: "val", else "test" (None if the history has
    neither's loss)."""
    return next((m for m in ("val", "test") if f"{m}_loss" in history), None)


def _band(ax: Axes, x: np.ndarray, table: np.ndarray, fmt: str = "-", **kwargs: Any) -> None:
    """The mean of `table`'s rows (seeds) against x, with a band from the lowest to the highest
    when there are several."""
    (line,) = ax.plot(x, table.mean(axis=0), fmt, **kwargs)
    if len(table) > 1:
        ax.fill_between(
            x, table.min(axis=0), table.max(axis=0), color=line.get_color(), alpha=0.2, lw=0
        )


def loss_curves(histories: Sequence[Mapping[str, Any]], title: str) -> Figure:
    """Per variant: the training loss of every logging window, and (dashed, at each epoch's
    last iteration) the per-epoch loss on the monitored split; means over seeds, the training
    loss with a band from the lowest to the highest seed."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for index, (variant, runs) in enumerate(by_variant(histories).items()):
        colour = f"C{index % 10}"
        logs = [pd.DataFrame(run["history"]["loss"]) for run in runs]
        table = pd.concat([log.set_index("iteration")["loss"] for log in logs], axis=1)
        _band(
            ax,
            table.index.to_numpy(),
            table.to_numpy().T,
            color=colour,
            label=f"{variant}: train ({len(runs)} seeds)",
        )
        split = monitored_split(runs[0]["history"])
        if split is not None:
            losses = np.array([run["history"][f"{split}_loss"] for run in runs], dtype=float)
            ends = logs[0].groupby("epoch")["iteration"].max().to_numpy()[: losses.shape[1]]
            ax.plot(ends, losses.mean(axis=0), "o--", color=colour, label=f"{variant}: {split}")
    ax.set(xlabel="iteration", ylabel="loss", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def grad_means(histories: Sequence[Mapping[str, Any]], title: str) -> Figure:
    """Per variant, the mean of all gradient entries at each of the first training steps (the
    history's `grad_mean`), mean over seeds with a band from the lowest to the highest."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for variant, runs in by_variant(histories).items():
        table = np.array([run["history"]["grad_mean"] for run in runs], dtype=float)
        _band(ax, np.arange(1, table.shape[1] + 1), table, label=f"{variant} ({len(runs)} seeds)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="training step", ylabel="mean gradient over all parameters", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def training_curves(histories: Sequence[Mapping[str, Any]], title: str) -> Figure:
    """One row per variant: loss (left) and accuracy (right) per epoch on the training split
    (solid) and the monitored split (dashed), mean over seeds with a min-max band."""
    groups = by_variant(histories)
    fig = Figure(figsize=(9, 2.3 * len(groups) + 0.5), layout="constrained")
    axes = fig.subplots(len(groups), 2, sharex=True, sharey="col", squeeze=False)
    for row, (variant, runs) in enumerate(groups.items()):
        split = monitored_split(runs[0]["history"])
        for ax, quantity in zip(axes[row], ("loss", "accuracy"), strict=True):
            for name in ["train", *([split] if split else [])]:
                key = f"{name}_{quantity}"
                if key in runs[0]["history"]:
                    table = np.array([run["history"][key] for run in runs], dtype=float)
                    epochs = np.arange(1, table.shape[1] + 1)
                    fmt, colour = ("-", "C0") if name == "train" else ("--", "C1")
                    _band(ax, epochs, table, fmt, color=colour, label=name)
            ax.grid(alpha=0.3)
            ax.set_title(f"{variant} ({len(runs)} seeds): {quantity}", fontsize=9)
        axes[row][1].set_ylabel("%")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    return fig


def confusion_matrices(
    matrices: Mapping[str, np.ndarray], classes: Sequence[str], title: str
) -> Figure:
    """One confusion matrix per variant (rows: true class, columns: predicted), three a row."""
    ncols = min(3, len(matrices))
    nrows = math.ceil(len(matrices) / ncols)
    fig = Figure(figsize=(4.2 * ncols, 4.2 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (variant, matrix) in zip(axes, matrices.items(), strict=False):
        ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(classes)).plot(
            ax=ax, colorbar=False, xticks_rotation=45, cmap="Blues"
        )
        ax.set_title(variant)
    for ax in axes[len(matrices) :]:
        ax.set_axis_off()
    fig.suptitle(title)
    return fig


def _legend(ax: Axes) -> None:
    """A legend with each label once."""
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize=8)


def metric_label(metric: str) -> str:
    """A metric's name for axes and titles: "val_accuracy" -> "val accuracy (%)"."""
    names = {"miou": "mIoU", "thresholded_iou": "thresholded IoU"}
    label = names.get(metric, metric.replace("_", " "))
    return label if metric.endswith("loss") else f"{label} (%)"


def metric_bars(summary: pd.DataFrame, metric: str) -> Figure:
    """Mean over seeds per variant (x, in order of appearance) and experiment (bars of one
    colour), with std error bars and reference markers."""
    table = summary[summary["metric"] == metric]
    experiments = list(dict.fromkeys(table["experiment"]))
    variants = list(dict.fromkeys(table["variant"]))
    fig = Figure(figsize=(max(6, 0.9 * len(variants) + 2), 4.5), layout="constrained")
    ax = fig.subplots()
    for x, variant in enumerate(variants):
        rows = table[table["variant"] == variant]
        width = 0.8 / len(rows)
        for i, row in enumerate(rows.itertuples()):
            pos = x + (i - (len(rows) - 1) / 2) * width
            colour = f"C{experiments.index(row.experiment) % 10}"
            ax.bar(
                pos, row.mean, width, yerr=row.std, capsize=4, color=colour, label=row.experiment
            )
            if pd.notna(row.reference):
                ax.scatter(
                    pos,
                    row.reference,
                    marker="_",
                    s=400,
                    color="black",
                    zorder=3,
                    label="reference",
                )
    ax.set_xticks(
        range(len(variants)),
        variants,
        rotation=30 if len(variants) > 6 else 0,
        ha="right" if len(variants) > 6 else "center",
    )
    label = metric_label(metric)
    ax.set(ylabel=label, title=f"{label}: mean ± std over seeds")
    ax.grid(axis="y", alpha=0.3)
    _legend(ax)
    return fig


def spread(values: pd.DataFrame, references: Mapping[str, Any], metric: str, title: str) -> Figure:
    """Per variant (x, in order of appearance): every seed's value (`values`: variant, seed,
    value) as a point, their mean ± std, and the reference (`references[variant]`) as a bar."""
    variants = list(dict.fromkeys(values["variant"]))
    fig = Figure(figsize=(max(6, 1.1 * len(variants) + 2), 4.5), layout="constrained")
    ax = fig.subplots()
    for x, variant in enumerate(variants):
        seeds = values.loc[values["variant"] == variant, "value"].to_numpy(dtype=float)
        ax.scatter(
            x - 0.12 + np.linspace(-0.08, 0.08, len(seeds)) * (len(seeds) > 1),
            seeds,
            s=16,
            color="C0",
            alpha=0.7,
            label="one seed",
        )
        ax.errorbar(
            x + 0.12,
            seeds.mean(),
            yerr=seeds.std(ddof=1) if len(seeds) > 1 else 0.0,
            fmt="o",
            color="C1",
            capsize=4,
            label="mean ± std",
        )
        reference = references.get(variant)
        if reference is not None:
            ax.scatter(x, reference, marker="_", s=500, color="black", zorder=3, label="reference")
    _legend(ax)
    ticks = [f"{v}\n({(values['variant'] == v).sum()} seeds)" for v in variants]
    ax.set_xticks(range(len(variants)), ticks, fontsize=8)
    ax.set(ylabel=metric_label(metric), title=title)
    ax.grid(axis="y", alpha=0.3)
    return fig


def positions(
    dataset: ArrayDataset, ids: Sequence[int], classes: Sequence[str] | None = None
) -> np.ndarray:
    """The indices in `dataset` of the images `ids` (in that order); with `classes`, these must
    be images of those classes (an experiment restricted to them)."""
    keep = np.ones(len(dataset), bool)
    if classes is not None:
        unknown = sorted(set(classes) - set(dataset.classes))
        if unknown:
            raise ValueError(f"classes {unknown} are not in the dataset's {list(dataset.classes)}")
        keep = np.isin(dataset.labels, [dataset.classes.index(c) for c in classes])
    lookup = pd.Series(np.flatnonzero(keep), index=dataset.ids[keep])
    missing = sorted(set(np.asarray(ids).tolist()) - set(lookup.index))
    if missing:
        raise ValueError(
            f"{len(missing)} image ids (first {missing[:5]}) are not in the dataset"
            + (f" restricted to {list(classes)}" if classes is not None else "")
            + "; the predictions belong to other data: rerun their evaluation"
        )
    return lookup.loc[list(ids)].to_numpy()


def _show(ax: Axes, image: np.ndarray) -> None:
    """An image (C x H x W, 1 or 3 channels) without ticks; one channel in grey."""
    _blank(ax)
    if image.shape[0] == 1:
        ax.imshow(image[0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(image.transpose(1, 2, 0))


def misclassified(
    dataset: ArrayDataset, predictions: pd.DataFrame, title: str, n: int = 20
) -> Figure:
    """The first `n` misclassified images of `dataset` in its order, titled with the predicted
    and the true class (`predictions`: image_id, label, prediction, as in predictions.csv)."""
    table = predictions.assign(position=positions(dataset, predictions["image_id"]))
    wrong = table[table["label"] != table["prediction"]].sort_values("position").head(n)
    ncols = 5
    nrows = max(1, math.ceil(len(wrong) / ncols))
    fig = Figure(figsize=(1.7 * ncols, 1.9 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes:
        _blank(ax)
        ax.set_frame_on(False)
    for ax, row in zip(axes, wrong.itertuples(), strict=False):
        _show(ax, dataset.images[row.position])
        ax.set_title(
            f"pred {dataset.classes[row.prediction]}\ntrue {dataset.classes[row.label]}",
            fontsize=7,
        )
    if wrong.empty:
        axes[0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    fig.suptitle(f"{title} ({len(wrong)} of {(table['label'] != table['prediction']).sum()})")
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
                    _show(ax, image)
                ax.set_xlabel(f"id {dataset.ids[picks[col]]}", fontsize=7)
        axes[label][0].set_ylabel(name)
    return fig


def per_class_iou(table: pd.DataFrame, title: str) -> Figure:
    """IoU per class (x) and variant (bars): `table` has variant, class, iou (mean over seeds)."""
    wide = table.pivot_table(index="class", columns="variant", values="iou", sort=False)
    fig = Figure(figsize=(max(6, 1.3 * len(wide)), 4.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(wide.columns)
    x = np.arange(len(wide))
    for i, variant in enumerate(wide.columns):
        ax.bar(x + (i - (len(wide.columns) - 1) / 2) * width, wide[variant], width, label=variant)
    ax.set_xticks(x, wide.index)
    ax.set(ylabel="IoU (val, mean over seeds)", ylim=(0, 1), title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return fig


def segmentation_examples(
    dataset: ArrayDataset, predictions: Mapping[str, np.ndarray], per_class: int = 1
) -> Figure:
    """Val images (rows: `per_class` per class), their true masks and each variant's prediction,
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


def colour_examples(
    images: np.ndarray, predictions: Mapping[str, np.ndarray], palette: np.ndarray, n: int = 6
) -> Figure:
    """The first `n` images (columns; RGB uint8, N x 3 x H x W): grey input (the mean of RGB),
    each variant's prediction (palette indices, N x H x W) in the palette's colours (K x 3 in
    [0, 1]), the target (each pixel's nearest palette colour) and the true colours (rows)."""
    count = min(n, len(images))
    targets = nearest_colour(images[:count], palette)
    rows = [
        ("grey input", [images[i].mean(axis=0) for i in range(count)]),
        *((name, [palette[masks[i]] for i in range(count)]) for name, masks in predictions.items()),
        (f"target ({len(palette)} colours)", [palette[t] for t in targets]),
        ("truth", [images[i].transpose(1, 2, 0) for i in range(count)]),
    ]
    fig = Figure(figsize=(1.4 * count + 0.8, 1.4 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), count, squeeze=False)
    for ax_row, (name, panels) in zip(axes, rows, strict=True):
        for ax, panel in zip(ax_row, panels, strict=True):
            _blank(ax)
            if panel.ndim == 2:
                ax.imshow(panel, cmap="gray", vmin=0, vmax=255)
            else:
                ax.imshow(panel)
        ax_row[0].set_ylabel(name, fontsize=8)
    return fig


def save(fig: Figure, path: str) -> None:
    """Save a figure as PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
