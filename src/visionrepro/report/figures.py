"""Figures of the report: loss and training curves, gradient means, confusion matrices, metrics
per variant, per-class IoU, sample images (with their masks), misclassified images, segmentation
and colourization predictions."""

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter
from sklearn.metrics import ConfusionMatrixDisplay

from visionrepro.data.color import nearest_color
from visionrepro.data.datasets import ArrayDataset
from visionrepro.fileio import atomic_path
from visionrepro.report.verdicts import VERDICT_COLORS, plural

# Every text in the figures (labels, class and variant names from the config) is shown as
# written: a `$` starts no mathtext, so `$\frac{1}{$` in a label is text, not a parse error.
matplotlib.rcParams["text.parse_math"] = False


def by_variant(runs: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Run records (train.json or metrics.json) grouped by variant, in order of appearance."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for run in runs:
        groups.setdefault(run["variant"], []).append(run)
    return groups


def history_split(history: Mapping[str, Any]) -> str | None:
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


def spans_decades(values: np.ndarray, decades: float = 2.0) -> bool:
    """Whether positive values span more than `decades` powers of ten (a case for a log axis)."""
    finite = values[np.isfinite(values)]
    return bool(finite.size and finite.min() > 0 and finite.max() / finite.min() > 10**decades)


def _outside_legend(fig: Figure, handles: Sequence[Any], ncols: int = 3) -> None:
    """A legend below the plotting area, never over the data."""
    fig.legend(handles=list(handles), loc="outside lower center", fontsize=7, ncols=ncols)


def loss_curves(histories: Sequence[Mapping[str, Any]], title: str) -> Figure:
    """Per variant (one colour each): the training loss of every logging window (solid), and
    the per-epoch loss on the monitored split (dashed, at each epoch's last iteration); means
    over seeds, the training loss with a band from the lowest to the highest seed. A log axis
    when the losses span more than two decades; the legend outside the plot."""
    fig = Figure(figsize=(6, 3.8), layout="constrained")
    ax = fig.subplots()
    handles, plotted, splits = [], [], set()
    for index, (variant, runs) in enumerate(by_variant(histories).items()):
        color = f"C{index % 10}"
        logs = [pd.DataFrame(run["history"]["loss"]) for run in runs]
        table = pd.concat([log.set_index("iteration")["loss"] for log in logs], axis=1)
        _band(
            ax, table.index.to_numpy(), table.to_numpy().T, color=color, label=f"{variant}: train"
        )
        plotted.append(table.to_numpy().ravel())
        handles.append(
            Line2D([], [], color=color, label=f"{variant} ({plural(len(runs), 'seed')})")
        )
        split = history_split(runs[0]["history"])
        if split is not None:
            losses = np.array([run["history"][f"{split}_loss"] for run in runs], dtype=float)
            ends = logs[0].groupby("epoch")["iteration"].max().to_numpy()[: losses.shape[1]]
            ax.plot(
                ends, losses.mean(axis=0), "o--", color=color, ms=3, label=f"{variant}: {split}"
            )
            plotted.append(losses.ravel())
            splits.add(split)
    handles.append(Line2D([], [], color="grey", label="training (per window)"))
    handles += [
        Line2D([], [], color="grey", ls="--", marker="o", ms=3, label=f"{split} (per epoch)")
        for split in sorted(splits)
    ]
    if spans_decades(np.concatenate(plotted)):
        ax.set_yscale("log")
        # Plain numbers: the default log labels are mathtext ($10^{0}$), which is off here.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="iteration", ylabel="loss", title=title)
    ax.grid(alpha=0.3)
    _outside_legend(fig, handles)
    return fig


def grad_means(histories: Sequence[Mapping[str, Any]], title: str) -> Figure:
    """Per variant, the mean of all gradient entries at each of the first training steps (the
    history's `grad_mean`), mean over seeds with a band from the lowest to the highest."""
    fig = Figure(figsize=(6, 3.8), layout="constrained")
    ax = fig.subplots()
    for variant, runs in by_variant(histories).items():
        table = np.array([run["history"]["grad_mean"] for run in runs], dtype=float)
        label = f"{variant} ({plural(len(runs), 'seed')})"
        _band(ax, np.arange(1, table.shape[1] + 1), table, label=label)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="training step", ylabel="mean gradient over all parameters", title=title)
    ax.grid(alpha=0.3)
    _outside_legend(fig, ax.get_legend_handles_labels()[0])
    return fig


def training_curves(histories: Sequence[Mapping[str, Any]], title: str) -> Figure:
    """One row per variant: loss (left) and accuracy (right) per epoch on the training split
    (solid) and the monitored split (dashed), mean over seeds with a min-max band."""
    groups = by_variant(histories)
    fig = Figure(figsize=(9, 2.3 * len(groups) + 0.5), layout="constrained")
    axes = fig.subplots(len(groups), 2, sharex=True, sharey="col", squeeze=False)
    for row, (variant, runs) in enumerate(groups.items()):
        split = history_split(runs[0]["history"])
        for ax, quantity in zip(axes[row], ("loss", "accuracy"), strict=True):
            for name in ["train", *([split] if split else [])]:
                key = f"{name}_{quantity}"
                if key in runs[0]["history"]:
                    table = np.array([run["history"][key] for run in runs], dtype=float)
                    epochs = np.arange(1, table.shape[1] + 1)
                    fmt, color = ("-", "C0") if name == "train" else ("--", "C1")
                    _band(ax, epochs, table, fmt, color=color, label=name)
            ax.grid(alpha=0.3)
            ax.set_title(f"{variant} ({plural(len(runs), 'seed')}): {quantity}", fontsize=9)
        axes[row][1].set_ylabel("%")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    _outside_legend(fig, axes[0][0].get_legend_handles_labels()[0])
    fig.suptitle(title)
    return fig


def confusion_matrices(
    matrices: Mapping[str, np.ndarray], classes: Sequence[str], title: str
) -> Figure:
    """One confusion matrix per variant (rows: true class, columns: predicted), in percent of
    each true class (rows sum to 100 whatever the number of seeds pooled), three a row."""
    ncols = min(3, len(matrices))
    nrows = math.ceil(len(matrices) / ncols)
    size = 2.2 + 0.3 * len(classes)
    fig = Figure(figsize=(size * ncols, size * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (variant, matrix) in zip(axes, matrices.items(), strict=False):
        counts = np.asarray(matrix, dtype=float)
        percent = 100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        ConfusionMatrixDisplay(percent, display_labels=list(classes)).plot(
            ax=ax, colorbar=False, xticks_rotation=45, cmap="Blues", values_format=".0f"
        )
        ax.images[-1].set_clim(0, 100)
        ax.set_title(variant, fontsize=9)
        if len(classes) > 6:
            for text in ax.texts:
                text.set_fontsize(7)
    for ax in axes[len(matrices) :]:
        ax.set_axis_off()
    fig.suptitle(title)
    return fig


def metric_label(metric: str) -> str:
    """A metric's name for axes and titles: "val_accuracy" -> "val accuracy (%)"."""
    names = {"miou": "mIoU", "thresholded_iou": "thresholded IoU"}
    label = names.get(metric, metric.replace("_", " "))
    return label if metric.endswith("loss") else f"{label} (%)"


def wrap_label(label: str, width: int = 13) -> str:
    """`label` in lines of at most `width` characters where it can be: broken after a space, a
    comma or a hyphen ("784-256-512-1024-2048-10" too), never inside a piece."""
    lines = [""]
    for piece in re.findall(r"[^ ,-]+[ ,-]*|[ ,-]+", label):
        if lines[-1] and len(lines[-1] + piece.rstrip()) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(line.rstrip() for line in lines)


def _tick(label: str, n: int) -> str:
    """A variant's tick label: its label (wrapped) and its number of seeds."""
    return f"{wrap_label(label)}\n({plural(n, 'seed')})"


def _limits(values: pd.DataFrame, glance: pd.DataFrame) -> tuple[float, float]:
    """The y range of a headline figure: the seeds, means, prediction intervals (clipped to the
    metric's range already) and references with their tolerance."""
    points = np.concatenate(
        [
            values["value"].to_numpy(dtype=float),
            glance["mean"].to_numpy(dtype=float),
            glance["pred_low"].to_numpy(dtype=float),
            glance["pred_high"].to_numpy(dtype=float),
            (glance["reference"] - glance["tolerance"]).to_numpy(dtype=float),
            (glance["reference"] + glance["tolerance"]).to_numpy(dtype=float),
        ]
    )
    low, high = np.nanmin(points), np.nanmax(points)
    pad = max(0.12 * (high - low), 1.0)
    return low - pad, high + pad


def headline(values: pd.DataFrame, glance: pd.DataFrame, metric: str, title: str) -> Figure:
    """One experiment's headline metric per variant (x, in `glance` order): every seed as a
    grey dot (a red cross at chance level; `values`: variant, seed, value, chance), the mean
    with the 95 % prediction interval of one new run (thin) and the interval of the mean
    (thick) in the colour of its verdict's kind, and the reference as a black star with its
    tolerance as a grey bar (`glance`: verdicts.glance_table's rows of this metric)."""
    fig = Figure(figsize=(max(6.0, 1.2 + 0.85 * len(glance)), 3.8), layout="constrained")
    ax = fig.subplots()
    for x, row in enumerate(glance.itertuples()):
        seeds = values[values["variant"] == row.variant]
        jitter = np.linspace(-0.1, 0.1, len(seeds)) if len(seeds) > 1 else np.zeros(1)
        chance = seeds["chance"].to_numpy(dtype=bool)
        ax.scatter((x - 0.15 + jitter)[~chance], seeds["value"][~chance], s=14, color="0.55")
        ax.scatter(
            (x - 0.15 + jitter)[chance], seeds["value"][chance], s=30, marker="x", color="C3"
        )
        color = VERDICT_COLORS[row.kind]
        if pd.notna(row.pred_low):
            ax.vlines(x + 0.05, row.pred_low, row.pred_high, color=color, lw=1, zorder=3)
            ax.vlines(x + 0.05, row.mean_low, row.mean_high, color=color, lw=3.5, zorder=3)
        ax.plot(x + 0.05, row.mean, "o", color=color, ms=8, zorder=4)
        if pd.notna(row.reference):
            ax.vlines(
                x + 0.25,
                row.reference - row.tolerance,
                row.reference + row.tolerance,
                color="0.75",
                lw=6,
                zorder=1,
            )
            ax.plot(x + 0.25, row.reference, "*", color="black", ms=12, zorder=5)
    ticks = [_tick(label, n) for label, n in zip(glance["label"], glance["n_seeds"], strict=True)]
    ax.set_xticks(range(len(glance)), ticks, fontsize=7 if len(glance) > 4 else 8)
    ax.set_xlim(-0.6, len(glance) - 0.4)
    ax.set_ylim(*_limits(values, glance))
    ax.set(ylabel=metric_label(metric), title=title)
    ax.grid(axis="y", alpha=0.3)
    _outside_legend(fig, _headline_legend(values, glance), ncols=4)
    return fig


def _headline_legend(values: pd.DataFrame, glance: pd.DataFrame) -> list[Line2D | Patch]:
    """The headline figure's legend: only the marks it draws, and the verdict kinds it shows."""
    intervals = glance["pred_low"].notna().any()
    handles = [
        Line2D([], [], ls="", marker="o", ms=4, color="0.55", label="one seed"),
        *(
            [Line2D([], [], ls="", marker="x", ms=6, color="C3", label="seed at chance level")]
            if values["chance"].any()
            else []
        ),
        Line2D([], [], ls="", marker="o", color="0.2", label="mean"),
        *(
            [
                Line2D([], [], lw=3.5, color="0.2", label="95 % CI of the mean"),
                Line2D([], [], lw=1, color="0.2", label="95 % PI of one run"),
            ]
            if intervals
            else []
        ),
        *(
            [
                Line2D([], [], ls="", marker="*", ms=12, color="black", label="reference"),
                Line2D([], [], ls="-", lw=6, color="0.75", label="reference ± tolerance"),
            ]
            if glance["reference"].notna().any()
            else []
        ),
        *(
            Patch(color=VERDICT_COLORS[kind], label=kind)
            for kind in VERDICT_COLORS
            if kind in set(glance["kind"])
        ),
    ]
    return handles


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


def mask_colors(n_classes: int) -> np.ndarray:
    """RGB colours (uint8) of mask values 0..n_classes-1: black background, then tab10."""
    colors = np.array([(0, 0, 0), *colormaps["tab10"].colors[: n_classes - 1]]) * 255
    return colors.round().astype(np.uint8)


def overlay(image: np.ndarray, mask: np.ndarray, n_classes: int, alpha: float = 0.6) -> np.ndarray:
    """An image (3 x H x W) in grey with its mask's objects tinted in their class colours
    (H x W x 3): on grey, a tint reads as the colour of its class in the key."""
    grey = np.repeat(image.astype(float).mean(axis=0)[..., None], 3, axis=2)
    tint = mask_colors(n_classes)[mask].astype(float)
    on = (mask > 0)[..., None]
    return np.where(on, (1 - alpha) * grey + alpha * tint, grey).round().astype(np.uint8)


def _blank(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def image_format(images: np.ndarray) -> str:
    """The size and colour of images (N x C x H x W): "28x28 grey", "64x64 colour"."""
    channels, height, width = images.shape[1:]
    return f"{width}x{height} {'grey' if channels == 1 else 'colour'}"


def sample_grid(
    dataset: ArrayDataset, title: str, per_class: int = 3, with_masks: bool = False
) -> Figure:
    """The first `per_class` training images of every class, one row per class, titled with
    their stored size and colour; `with_masks` tints each image's mask over it."""
    classes = dataset.classes
    fig = Figure(figsize=(1.3 * per_class + 0.8, 1.3 * len(classes) + 0.5), layout="constrained")
    fig.suptitle(f"{title} ({image_format(dataset.images)})", fontsize=9)
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
        axes[label][0].set_ylabel(name, fontsize=8)
    if with_masks:
        class_key(fig, dataset.mask_classes)
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
    _outside_legend(fig, ax.get_legend_handles_labels()[0], ncols=len(wide.columns))
    return fig


def class_key(fig: Figure, mask_classes: Sequence[str]) -> None:
    """A legend of the mask classes' tints (background: no tint) below the figure."""
    colors = mask_colors(len(mask_classes))
    handles = [Patch(facecolor="white", edgecolor="0.5", label=f"{mask_classes[0]} (no tint)")]
    handles += [
        Patch(color=colors[c] / 255, label=name) for c, name in enumerate(mask_classes) if c
    ]
    ncols = min(len(handles), max(2, int(fig.get_figwidth() // 1.5)))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=8)


def segmentation_comparison(
    dataset: ArrayDataset, predictions: Mapping[str, np.ndarray], per_class: int = 1
) -> Figure:
    """The same val images (rows: `per_class` per class) with their true mask and each
    prediction (columns, e.g. every experiment's network; masks N x H x W in the dataset's
    order) tinted over the image, with a colour key of the classes."""
    picks = np.concatenate(
        [
            np.flatnonzero(dataset.labels == label)[:per_class]
            for label in range(len(dataset.classes))
        ]
    )
    n = len(dataset.mask_classes)
    columns = {"image": None, "truth": dataset.masks, **predictions}
    fig = Figure(figsize=(1.25 * len(columns) + 0.4, 1.25 * len(picks) + 1.0), layout="constrained")
    axes = fig.subplots(len(picks), len(columns), squeeze=False)
    for row, i in enumerate(picks):
        for ax, (name, masks) in zip(axes[row], columns.items(), strict=True):
            _blank(ax)
            image = dataset.images[i]
            ax.imshow(image.transpose(1, 2, 0) if masks is None else overlay(image, masks[i], n))
            if row == 0:
                ax.set_title(name, fontsize=7)
        axes[row][0].set_ylabel(dataset.classes[dataset.labels[i]], fontsize=8)
    class_key(fig, dataset.mask_classes)
    return fig


def color_examples(
    images: np.ndarray, predictions: Mapping[str, tuple[np.ndarray, np.ndarray]], n: int = 6
) -> Figure:
    """The first `n` images (columns; RGB uint8, N x 3 x H x W): grey input (the mean of RGB),
    each variant's prediction (palette indices, N x H x W) in its run's palette (K x 3 in
    [0, 1]), the target (each pixel's nearest colour of the first variant's palette) and the
    true colours (rows). `predictions` maps each variant to its (masks, palette)."""
    count = min(n, len(images))
    palette = next(iter(predictions.values()))[1]
    targets = nearest_color(images[:count], palette)
    rows = [
        ("grey input", [images[i].mean(axis=0) for i in range(count)]),
        *(
            (name, [colors[masks[i]] for i in range(count)])
            for name, (masks, colors) in predictions.items()
        ),
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
