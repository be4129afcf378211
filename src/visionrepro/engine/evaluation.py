"""Scores of a trained run on its eval split: the metrics of its task, a per-image table."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from visionrepro.data.datasets import ArrayDataset
from visionrepro.engine.checkpoints import TrainedModel
from visionrepro.engine.losses import make_loss
from visionrepro.engine.metrics import classification_metrics, image_ious, segmentation_metrics
from visionrepro.engine.model_inputs import to_model_input, to_targets
from visionrepro.engine.training import predict_with_loss


@dataclass(frozen=True)
class Evaluation:
    """A run's metrics on a split, the names of its headline metrics, a row per image, and the
    predictions (labels, or a class per pixel)."""

    metrics: dict[str, float]
    summary: list[str]
    table: pd.DataFrame
    predictions: np.ndarray


def evaluate(trained: TrainedModel, data: ArrayDataset, split: str) -> Evaluation:
    """Predict `data` with the trained model (its settings: colour, normalisation, loss) and score
    the predictions; metric names that depend on the split carry it (`<split>_loss`)."""
    settings = trained.settings
    targets = to_targets(data, settings)
    preds, loss = predict_with_loss(
        trained.build(),
        to_model_input(data.images, settings),
        targets,
        make_loss(settings.loss),
        settings.eval_batch_size,
    )
    preds = preds.numpy()
    if settings.kind.dense:
        result = _dense(data, preds, split, settings.kind.masks)
    else:
        result = _classification(data, preds, split)
    result.metrics[f"{split}_loss"] = loss
    return result


def _classification(data: ArrayDataset, preds: np.ndarray, split: str) -> Evaluation:
    metrics = classification_metrics(data.labels, preds, data.classes, split=split)
    table = pd.DataFrame({"image_id": data.ids, "label": data.labels, "prediction": preds})
    return Evaluation(metrics, [f"{split}_accuracy"], table, preds)


def _dense(data: ArrayDataset, preds: np.ndarray, split: str, masks: bool) -> Evaluation:
    """Segmentation (`masks`: mIoU, pixel accuracy, thresholded IoU) or colorization (pixel
    accuracy)."""
    if masks:
        metrics = segmentation_metrics(data.masks, preds, data.mask_classes, data.mask_values)
        summary = ["miou", "pixel_accuracy", "thresholded_iou"]
        per_image = {"iou": image_ious(data.masks, preds, data.mask_values)}
    else:
        metrics = {"pixel_accuracy": 100.0 * float((data.masks == preds).mean())}
        summary = ["pixel_accuracy", f"{split}_loss"]
        per_image = {}
    table = pd.DataFrame(
        {
            "image_id": data.ids,
            "label": data.labels,
            **per_image,
            "pixel_accuracy": (data.masks == preds).mean(axis=(1, 2)),
        }
    )
    return Evaluation(metrics, summary, table, preds.astype(np.uint8))
