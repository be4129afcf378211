"""How each figure kind (plan/figures.py) is drawn from its inputs and settings: one function
per kind, called by the one plot script (workflow_scripts/plot.py) with the kind's named inputs,
its params and its wildcards, returning the figure."""

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from visionrepro.data.color import load_palette
from visionrepro.data.datasets import ArrayDataset
from visionrepro.fileio import read_json
from visionrepro.report import figures
from visionrepro.report.tables import headline_values, run_table
from visionrepro.report.verdicts import glance_table, headline_spec, plural

Inputs = Mapping[str, Any]
Draw = Callable[[Inputs, Mapping[str, Any], Mapping[str, str]], Figure]


def headline(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    """Every seed's headline metric, the mean with its interval and verdict, the reference
    (judged here from the experiment's own runs, so that its figure needs no other
    experiment's runs: `snakemake <experiment>` draws it)."""
    spec = headline_spec(params["spec"])
    runs = run_table([read_json(path) for path in inputs["metrics"]])
    glance = glance_table(runs, {w["experiment"]: spec})
    values = headline_values(runs, {w["experiment"]: spec["metric"]})
    title = f"{w['experiment']}: {figures.metric_label(spec['metric'])}"
    return figures.headline(
        values, glance[glance["metric"] == spec["metric"]], spec["metric"], title
    )


def _histories(inputs: Inputs) -> list[dict]:
    return [read_json(path) for path in inputs["histories"]]


def loss(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    return figures.loss_curves(_histories(inputs), f"{w['experiment']}: loss")


def grad_mean(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    title = f"{w['experiment']}: mean gradient of all parameters per step"
    return figures.grad_means(_histories(inputs), title)


def curves(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    title = f"{w['experiment']}: loss and accuracy per epoch"
    return figures.training_curves(_histories(inputs), title)


def confusion(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    """Confusion matrices per variant, summed over its seeds."""
    runs = [read_json(path) for path in inputs["metrics"]]
    matrices = {
        f"{variant} ({plural(len(group), 'seed')})": sum(
            np.array(run["confusion_matrix"]) for run in group
        )
        for variant, group in figures.by_variant(runs).items()
    }
    title = f"{w['experiment']}: {params['split']} confusion matrices, % of each true class"
    return figures.confusion_matrices(matrices, runs[0]["classes"], title)


def per_class_iou(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    runs = [read_json(path) for path in inputs["metrics"]]
    ious = pd.DataFrame(
        [{"variant": run["variant"], **c} for run in runs for c in run["per_class"]]
    ).dropna(subset=["iou"])
    return figures.per_class_iou(ious, f"{w['experiment']}: val IoU per class")


def misclassified(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    """The first misclassified evaluation images of one variant's first-seed run."""
    dataset = ArrayDataset.load(inputs["eval_pack"])
    predictions = pd.read_csv(inputs["first_predictions"])
    title = f"{w['experiment']}, {w['variant']}: misclassified {params['split']} images"
    return figures.misclassified(dataset, predictions, title, n=params["n"])


def color_examples(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    """Grey input, each variant's predicted colours (first seed, in its palette), the truth."""
    n, predictions, ids = params["n"], {}, None
    runs = zip(params["variants"], inputs["first_masks"], inputs["palettes"], strict=True)
    for variant, path, palette in runs:
        with np.load(path) as data:
            predictions[variant] = (data["masks"][:n], load_palette(palette))
            if ids is not None and not np.array_equal(ids, data["ids"][:n]):
                raise ValueError(f"{path} predicts other images than {inputs['first_masks'][0]}")
            ids = data["ids"][:n]
    dataset = ArrayDataset.load(inputs["eval_pack"])
    images = dataset.images[figures.positions(dataset, ids, params["classes"])]
    return figures.color_examples(images, predictions, n=n)


def segmentation(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    """Every segmentation experiment's networks (first seed) on the same val images."""
    val = ArrayDataset.load(inputs["val_pack"], masks=inputs["val_masks"])
    predictions = {}
    for (experiment, variant), path in zip(
        params["runs"], inputs["dataset_predictions"], strict=True
    ):
        with np.load(path) as data:
            if not np.array_equal(data["ids"], val.ids):
                raise ValueError(
                    f"{path} predicts other images than {inputs['val_pack']}: rerun it"
                )
            predictions[f"{experiment}\n{variant}"] = data["masks"]
    return figures.segmentation_comparison(val, predictions, per_class=params["per_class"])


def samples(inputs: Inputs, params: Mapping[str, Any], w: Mapping[str, str]) -> Figure:
    """Three training images per class, with their masks where the kind has them."""
    masks = inputs.get("train_masks")
    dataset = ArrayDataset.load(inputs["train_pack"], masks=masks)
    return figures.sample_grid(dataset, w["dataset"], per_class=3, with_masks=masks is not None)


DRAW: dict[str, Draw] = {
    "headline": headline,
    "loss": loss,
    "grad_mean": grad_mean,
    "curves": curves,
    "confusion": confusion,
    "per_class_iou": per_class_iou,
    "misclassified": misclassified,
    "color_examples": color_examples,
    "segmentation": segmentation,
    "samples": samples,
    "masks": samples,
}
