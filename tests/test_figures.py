"""The report's figures on small synthetic inputs: what each one draws."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

from visionrepro.data.datasets import ArrayDataset
from visionrepro.report import figures

CLASSES = ("0 - zero", "1 - one", "2 - two")


def _digits(n: int = 8) -> ArrayDataset:
    """Grey 1-channel images whose first pixel is their index (ids offset by 100)."""
    images = np.zeros((n, 1, 28, 28), np.uint8)
    images[:, 0, 0, 0] = np.arange(n)
    return ArrayDataset(images, np.arange(n) % 3, np.arange(n) + 100, CLASSES)


def _history(variant: str, seed: int, epochs: int = 3, split: str = "test", **extra) -> dict:
    """A train.json record: 2 logging windows per epoch of 5 iterations (log_every 3)."""
    loss = [
        {"epoch": e, "iteration": (e - 1) * 5 + i, "loss": 2.0 / e + seed * 0.1}
        for e in range(1, epochs + 1)
        for i in (3, 5)
    ]
    history = {
        "loss": loss,
        "train_loss": [2.0 / e for e in range(1, epochs + 1)],
        f"{split}_loss": [2.5 / e + seed for e in range(1, epochs + 1)],
        "train_accuracy": [50.0 + 10 * e for e in range(1, epochs + 1)],
        f"{split}_accuracy": [40.0 + 10 * e + seed for e in range(1, epochs + 1)],
        **extra,
    }
    return {
        "experiment": "e",
        "variant": variant,
        "network": "MLP",
        "seed": seed,
        "history": history,
    }


def _titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def test_misclassified_shows_the_first_wrong_images_in_dataset_order() -> None:
    data = _digits()
    # Rows deliberately out of order: the figure follows the dataset's order.
    predictions = pd.DataFrame(
        {
            "image_id": [107, 101, 100, 102, 103, 105],
            "label": [1, 1, 0, 2, 0, 2],
            "prediction": [0, 2, 0, 1, 0, 0],
        }
    )
    fig = figures.misclassified(data, predictions, "mnist: MLP", n=3)
    assert _titles(fig) == [
        "pred 2 - two\ntrue 1 - one",
        "pred 1 - one\ntrue 2 - two",
        "pred 0 - zero\ntrue 2 - two",
    ]
    shown = [ax.images[0].get_array()[0, 0] for ax in fig.axes if ax.images]
    assert shown == [1, 2, 5]  # the images of ids 101, 102, 105, in grey
    assert fig.axes[0].images[0].get_cmap().name == "gray"
    assert "(3 of 4)" in fig.get_suptitle()


def test_misclassified_with_none_wrong_and_unknown_ids() -> None:
    data = _digits()
    right = pd.DataFrame({"image_id": [100, 101], "label": [0, 1], "prediction": [0, 1]})
    fig = figures.misclassified(data, right, "all right")
    assert not any(ax.images for ax in fig.axes) and "(0 of 0)" in fig.get_suptitle()
    stray = pd.DataFrame({"image_id": [999], "label": [0], "prediction": [1]})
    with pytest.raises(ValueError, match="999"):
        figures.misclassified(data, stray, "stray")


def test_positions_restricted_to_classes() -> None:
    data = _digits()  # labels 0 1 2 0 1 2 0 1
    assert figures.positions(data, [104, 101], classes=["1 - one"]).tolist() == [4, 1]
    with pytest.raises(ValueError, match=r"restricted to \['1 - one'\]"):
        figures.positions(data, [100], classes=["1 - one"])
    with pytest.raises(ValueError, match="horse"):
        figures.positions(data, [100], classes=["horse"])


def test_loss_curves_add_the_per_epoch_eval_loss_at_each_epochs_last_iteration() -> None:
    histories = [_history("MLP", 0), _history("MLP", 1), _history("CNN", 0)]
    fig = figures.loss_curves(histories, "mnist")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"MLP: train", "MLP: test", "CNN: train", "CNN: test"}
    assert lines["MLP: train"].get_xdata().tolist() == [3, 5, 8, 10, 13, 15]
    assert lines["MLP: test"].get_xdata().tolist() == [5, 10, 15]
    assert lines["MLP: test"].get_ydata() == pytest.approx([2.5 + 0.5, 1.25 + 0.5, 2.5 / 3 + 0.5])
    assert len(ax.collections) == 1  # a seed band for MLP only
    # The legend outside the axes: one entry per variant (colour), one per line style.
    assert ax.get_legend() is None
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "MLP (2 seeds)",
        "CNN (1 seed)",
        "training (per window)",
        "test (per epoch)",
    ]
    assert ax.get_yscale() == "linear"


def test_loss_curves_spanning_more_than_two_decades_use_a_log_axis() -> None:
    diverging = _history("MLP_lr1", 0)
    diverging["history"]["loss"][1]["loss"] = 57.0
    steady = _history("MLP_lr0.01", 0)
    steady["history"]["loss"][-1]["loss"] = 0.3
    fig = figures.loss_curves([diverging, steady], "f")
    assert fig.axes[0].get_yscale() == "log"
    fig.draw_without_rendering()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert labels and not [t for t in labels if "$" in t], labels  # plain numbers, no mathtext
    assert figures.spans_decades(np.array([0.3, 57.0]))
    assert not figures.spans_decades(np.array([0.3, 20.0, np.nan]))
    assert not figures.spans_decades(np.array([0.0, 57.0]))  # not positive: no log axis


def test_loss_curves_without_an_eval_loss_show_the_training_loss_only() -> None:
    history = _history("HW4Net1", 0)
    del history["history"]["test_loss"]
    ax = figures.loss_curves([history], "coco").axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["HW4Net1: train"]


def test_grad_means_one_line_per_variant_over_the_steps() -> None:
    histories = [
        _history("MLP_lr1", 0, grad_mean=[0.1, -0.2, 0.3]),
        _history("MLP_lr1", 1, grad_mean=[0.3, 0.0, 0.1]),
        _history("MLP_lr0.1", 0, grad_mean=[0.01, 0.02, 0.0]),
    ]
    ax = figures.grad_means(histories, "fashion").axes[0]
    lines = {line.get_label(): line for line in ax.get_lines() if "seed" in line.get_label()}
    assert list(lines) == ["MLP_lr1 (2 seeds)", "MLP_lr0.1 (1 seed)"]
    assert lines["MLP_lr1 (2 seeds)"].get_xdata().tolist() == [1, 2, 3]
    assert lines["MLP_lr1 (2 seeds)"].get_ydata() == pytest.approx([0.2, -0.1, 0.2])


def test_training_curves_one_row_per_variant_train_and_val() -> None:
    histories = [
        _history("base", 0, split="val"),
        _history("base", 1, split="val"),
        _history("dropout", 0, epochs=5, split="val"),
    ]
    fig = figures.training_curves(histories, "ladder")
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == [
        "base (2 seeds): loss",
        "base (2 seeds): accuracy",
        "dropout (1 seed): loss",
        "dropout (1 seed): accuracy",
    ]
    accuracy = {line.get_label(): line for line in axes[1].get_lines()}
    assert accuracy["val"].get_ydata() == pytest.approx([50.5, 60.5, 70.5])
    assert accuracy["train"].get_linestyle() == "-" and accuracy["val"].get_linestyle() == "--"
    assert len(axes[3].get_lines()[0].get_xdata()) == 5


def test_headline_shows_every_seed_the_mean_interval_verdict_and_reference() -> None:
    values = pd.DataFrame(
        {
            "variant": ["base"] * 3 + ["bn"] * 10 + ["lr1"],
            "seed": [*range(3), *range(10), 0],
            "value": [70.0, 72.0, 74.0, *np.linspace(76.0, 79.0, 10), 10.0],
            "chance": [False] * 13 + [True],
        }
    )
    glance = pd.DataFrame(
        {
            "variant": ["base", "bn", "lr1"],
            "label": ["baseline", "+ BatchNorm, lr 7e-4", "PoolUpsampleNet"],
            "n_seeds": [3, 10, 1],
            "mean": [72.0, 77.5, 10.0],
            "pred_low": [64.0, 75.0, np.nan],
            "pred_high": [80.0, 80.0, np.nan],
            "mean_low": [67.0, 76.8, np.nan],
            "mean_high": [77.0, 78.2, np.nan],
            "reference": [71.77, 79.7, np.nan],
            "tolerance": [1.0, 1.0, 1.0],
            "kind": ["consistent", "inconsistent", "no reference"],
        }
    )
    fig = figures.headline(values, glance, "test_accuracy", "ladder")
    ax = fig.axes[0]
    scatters = [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(s) for s in scatters) == 14  # one point per seed (the chance one a cross)
    means = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [m.get_ydata()[0] for m in means] == pytest.approx([72.0, 77.5, 10.0])
    colors = [m.get_color() for m in means]
    assert colors == [figures.VERDICT_COLORS[kind] for kind in glance["kind"]]
    stars = [line.get_ydata()[0] for line in ax.get_lines() if line.get_marker() == "*"]
    assert stars == pytest.approx([71.77, 79.7])  # a star, not an error-bar cap
    intervals = [
        seg
        for coll in ax.collections
        if not isinstance(coll, PathCollection)
        for seg in coll.get_segments()
    ]
    spans = np.array(sorted((seg[0][1], seg[1][1]) for seg in intervals))
    expected = [(64.0, 80.0), (67.0, 77.0), (75.0, 80.0), (76.8, 78.2), (70.77, 72.77)]
    expected = sorted([*expected, (78.7, 80.7)])
    np.testing.assert_allclose(spans, expected)  # PI, mean CI, and reference ± tolerance
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[:2] == ["baseline\n(3 seeds)", "+ BatchNorm,\nlr 7e-4\n(10 seeds)"]
    assert ticks[2] == "PoolUpsampleNet\n(1 seed)"  # a long name stays whole
    assert ax.get_legend() is None  # outside, on the figure
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["one seed", "seed at chance level"]
    assert "95 % PI of one run" in legend and "95 % CI of the mean" in legend
    assert legend[-3:] == ["consistent", "inconsistent", "no reference"]
    assert figures.metric_label("miou") == "mIoU (%)"
    assert figures.metric_label("test_loss") == "test loss"


def _glance(labels: list[str], references: list[float]) -> pd.DataFrame:
    """A one-seed headline table of these variants (named v0, v1, ...)."""
    n = len(labels)
    return pd.DataFrame(
        {
            "variant": [f"v{i}" for i in range(n)],
            "label": labels,
            "n_seeds": [1] * n,
            "mean": np.linspace(10.0, 90.0, n),
            **{k: [np.nan] * n for k in ("pred_low", "pred_high", "mean_low", "mean_high")},
            "reference": references,
            "tolerance": [1.0] * n,
            "kind": ["no estimate" if pd.notna(r) else "no reference" for r in references],
        }
    )


def _one_seed_each(glance: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"variant": glance["variant"], "seed": 0, "value": glance["mean"], "chance": False}
    )


def test_wrap_label_breaks_after_spaces_commas_and_hyphens() -> None:
    assert figures.wrap_label("784-256-512-1024-2048-10") == "784-256-512-\n1024-2048-10"
    assert figures.wrap_label("HW4Net1 lr=0.001, batch_size=64") == (
        "HW4Net1\nlr=0.001,\nbatch_size=64"
    )
    assert figures.wrap_label("PoolUpsampleNet") == "PoolUpsampleNet"


def test_headline_tick_labels_do_not_overlap() -> None:
    """The fashion_mlp headline: a sweep and three structures named by their layer sizes."""
    labels = ["lr=1", "lr=0.1", "lr=0.01", "lr=0.001", "784-256-512-10"]
    labels += ["784-256-512-1024-2048-10", "784-1024-2048-10"]
    glance = _glance(labels, [10.0, 87.0, 83.5, 71.9, 88.7, 88.8, 89.1])
    fig = figures.headline(_one_seed_each(glance), glance, "test_accuracy", "fashion_mlp")
    fig.draw_without_rendering()  # lays the figure out, as saving it does
    boxes = [t.get_window_extent() for t in fig.axes[0].get_xticklabels()]
    assert len(boxes) == 7
    gaps = [right.x0 - left.x1 for left, right in itertools.pairwise(boxes)]
    assert min(gaps) > 0, gaps


def test_headline_legend_has_reference_entries_only_where_there_is_a_reference() -> None:
    without = _glance(["PoolUpsampleNet", "UNet"], [np.nan, np.nan])
    fig = figures.headline(_one_seed_each(without), without, "miou", "coco_seg")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert not [entry for entry in legend if entry.startswith("reference")]
    assert "mean" in legend  # one seed each: no interval to explain
    with_one = _glance(["PoolUpsampleNet", "UNet"], [np.nan, 50.0])
    fig = figures.headline(_one_seed_each(with_one), with_one, "miou", "coco_seg")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"reference", "reference ± tolerance"} <= set(legend)


def test_color_examples_rows_grey_each_variant_in_its_palette_target_and_truth() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 3, 4, 4), dtype=np.uint8)
    palette = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    green = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
    masks = np.zeros((8, 4, 4), np.uint8)
    masks[:, :2] = 1
    predictions = {"UNet": (masks, palette), "CNN": (1 - masks, green)}
    fig = figures.color_examples(images, predictions, n=3)
    axes = np.array(fig.axes).reshape(5, 3)
    labels = ["grey input", "UNet", "CNN", "target (2 colours)", "truth"]
    assert [row[0].get_ylabel() for row in axes] == labels
    np.testing.assert_allclose(axes[0][1].images[0].get_array(), images[1].mean(axis=0))
    unet = axes[1][2].images[0].get_array()
    assert unet[0, 0].tolist() == [0.0, 0.0, 1.0] and unet[3, 0].tolist() == [1.0, 0.0, 0.0]
    cnn = axes[2][2].images[0].get_array()  # the CNN's run has a palette of its own
    assert cnn[0, 0].tolist() == [0.0, 1.0, 0.0] and cnn[3, 0].tolist() == [0.0, 0.0, 0.0]
    target = axes[3][0].images[0].get_array()  # each pixel's nearer of red and blue
    nearer_blue = images[0][2].astype(int) ** 2 + (255 - images[0][0].astype(int)) ** 2 > (
        images[0][0].astype(int) ** 2 + (255 - images[0][2].astype(int)) ** 2
    )
    np.testing.assert_array_equal(target[..., 2] == 1.0, nearer_blue)
    assert axes[4][0].images[0].get_array().tolist() == images[0].transpose(1, 2, 0).tolist()


def test_sample_grid_says_the_images_size_and_color() -> None:
    fig = figures.sample_grid(_digits(), "mnist", per_class=2)
    assert sum(bool(ax.images) for ax in fig.axes) == 6
    assert fig.get_suptitle() == "mnist (28x28 grey)"
    color = np.zeros((2, 3, 32, 32), np.uint8)
    assert figures.image_format(color) == "32x32 colour"


def test_confusion_matrices_in_percent_of_each_true_class(tmp_path: Path) -> None:
    matrices = {f"v{i}": np.eye(3, dtype=int) * (i + 1) for i in range(4)}
    matrices["v0"] = np.array([[30, 0, 0], [6, 3, 1], [0, 0, 0]])  # 3 seeds pooled, a class unseen
    fig = figures.confusion_matrices(matrices, CLASSES, "fashion")
    axes = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in axes] == ["v0", "v1", "v2", "v3"]
    shown = axes[0].images[0].get_array()
    np.testing.assert_allclose(shown, [[100, 0, 0], [60, 30, 10], [0, 0, 0]])
    np.testing.assert_allclose(axes[3].images[0].get_array(), np.eye(3) * 100)
    assert len(fig.axes) == 6  # two rows of three, the last two blank
    figures.save(fig, str(tmp_path / "confusion.png"))
    assert (tmp_path / "confusion.png").read_bytes().startswith(b"\x89PNG")


def test_segmentation_comparison_overlays_every_prediction_with_a_key() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 3, 8, 8), dtype=np.uint8)
    masks = np.zeros((4, 8, 8), np.uint8)
    masks[:, :4] = [[1], [1], [2], [2]]
    data = ArrayDataset(images, np.array([0, 0, 1, 1]), np.arange(4), ("boat", "dog"), masks)
    predictions = {"ce\nUNet": masks, "iou\nUNet": np.zeros_like(masks)}
    fig = figures.segmentation_comparison(data, predictions, per_class=1)
    axes = np.array(fig.axes).reshape(2, 4)
    assert [ax.get_title() for ax in axes[0]] == ["image", "truth", "ce\nUNet", "iou\nUNet"]
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["boat", "dog"]
    truth = axes[1][1].images[0].get_array()
    expected = figures.overlay(images[2], masks[2], 3)
    np.testing.assert_array_equal(truth, expected)
    untinted = axes[1][3].images[0].get_array()  # background everywhere: the image in grey
    grey = images[2].astype(float).mean(axis=0).round()
    np.testing.assert_array_equal(untinted, np.repeat(grey[..., None], 3, axis=2))
    assert axes[1][0].images[0].get_array().tolist() == images[2].transpose(1, 2, 0).tolist()
    key = [t.get_text() for t in fig.legends[0].get_texts()]
    assert key == ["background (no tint)", "boat", "dog"]
