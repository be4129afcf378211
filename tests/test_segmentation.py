"""Segmentation: masks from COCO annotations, metrics, losses, DeepLabV3 and the engine."""

import urllib.error
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.models._api as tv_api
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from sklearn.metrics import jaccard_score
from training_helpers import without_timings

from visionrepro.data.coco_masks import pack_masks, semantic_mask
from visionrepro.data.datasets import ArrayDataset, save_masks
from visionrepro.engine.losses import soft_iou_loss
from visionrepro.engine.metrics import iou_per_class, pixel_confusion, segmentation_metrics
from visionrepro.engine.model_inputs import to_model_input, to_targets
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import configure_threads, train
from visionrepro.errors import UserError
from visionrepro.models import build_network, count_parameters
from visionrepro.models.deeplab import WEIGHTS, download_weights

BOAT, DOG = 9, 18


def _quadrant_rle(side: int) -> dict:
    """An uncompressed (crowd) RLE of the bottom-right quadrant of a side x side image."""
    binary = np.zeros((side, side), dtype=np.uint8)
    binary[side // 2 :, side // 2 :] = 1
    return mask_utils.encode(np.asfortranarray(binary))


def _coco(annotations: list[dict], side: int = 128) -> COCO:
    coco = COCO()
    coco.dataset = {
        "images": [{"id": 1, "width": side, "height": side, "file_name": "1.jpg"}],
        "categories": [{"id": BOAT, "name": "boat"}, {"id": DOG, "name": "dog"}],
        "annotations": [
            {"id": i + 1, "image_id": 1, "area": 1.0, "bbox": [0, 0, 1, 1], **ann}
            for i, ann in enumerate(annotations)
        ],
    }
    coco.createIndex()
    return coco


SQUARE = {"category_id": BOAT, "iscrowd": 0, "segmentation": [[16, 16, 48, 16, 48, 48, 16, 48]]}


def test_polygon_mask_at_64() -> None:
    # The polygon covers pixels 16..47 of 128: at 64, pixels 8..23, with the label + 1 value.
    mask = semantic_mask(_coco([SQUARE]), 1, BOAT, 3, 64)
    expected = np.zeros((64, 64), dtype=np.uint8)
    expected[8:24, 8:24] = 3
    np.testing.assert_array_equal(mask, expected)


def test_crowd_rle_and_polygon_are_merged_and_other_categories_ignored() -> None:
    rle = _quadrant_rle(128)
    rle["counts"] = rle["counts"].decode()
    coco = _coco(
        [
            SQUARE,
            {"category_id": BOAT, "iscrowd": 1, "segmentation": rle},
            {
                "category_id": DOG,
                "iscrowd": 0,
                "segmentation": [[0, 100, 30, 100, 30, 127, 0, 127]],
            },
        ]
    )
    mask = semantic_mask(coco, 1, BOAT, 1, 64)
    expected = np.zeros((64, 64), dtype=np.uint8)
    expected[8:24, 8:24] = 1
    expected[32:, 32:] = 1
    np.testing.assert_array_equal(mask, expected)


def test_majority_rule_keeps_pixels_at_least_half_covered() -> None:
    # A one-pixel-wide vertical line at x = 10 of 128 covers half of the 2x2 blocks it crosses.
    line = {"category_id": BOAT, "iscrowd": 0, "segmentation": [[10, 0, 11, 0, 11, 128, 10, 128]]}
    binary = _coco([line]).annToMask(_coco([line]).anns[1])
    assert set(np.nonzero(binary.any(0))[0]) == {10}  # pycocotools: exactly column 10
    mask = semantic_mask(_coco([line]), 1, BOAT, 1, 64)
    assert np.nonzero(mask.any(0))[0].tolist() == [5]


def test_pack_masks_follows_the_manifest_order(tmp_path: Path) -> None:
    import pandas as pd

    manifest = pd.DataFrame(
        {
            "image_id": [1, 1],
            "annotation_set": ["train2017", "train2017"],
            "category": ["boat", "dog"],
            "label": [0, 1],
            "split": ["train", "val"],
        }
    )
    coco = _coco([SQUARE])
    train_masks = pack_masks(manifest, {"train2017": coco}, "train", 64)
    val_masks = pack_masks(manifest, {"train2017": coco}, "val", 64)
    assert train_masks.shape == (1, 64, 64) and train_masks.max() == 1
    assert not val_masks.any()  # no dog annotation in the image


def test_masks_travel_with_their_images(tmp_path: Path) -> None:
    images = np.zeros((2, 3, 8, 8), dtype=np.uint8)
    data = ArrayDataset(images, np.array([0, 1]), np.array([7, 8]), ("boat", "dog"))
    data.save(tmp_path / "train.npz")
    masks = np.arange(128, dtype=np.uint8).reshape(2, 8, 8) % 3
    save_masks(tmp_path / "train_masks.npz", masks, data.ids)
    loaded = ArrayDataset.load(tmp_path / "train.npz", masks=tmp_path / "train_masks.npz")
    np.testing.assert_array_equal(loaded.masks, masks)
    assert loaded.mask_classes == ("background", "boat", "dog")
    save_masks(tmp_path / "other.npz", masks, np.array([8, 7]))
    with pytest.raises(ValueError, match="other images"):
        ArrayDataset.load(tmp_path / "train.npz", masks=tmp_path / "other.npz")


@pytest.mark.parametrize("seed", range(5))
def test_miou_matches_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 6, (4, 16, 16))
    pred = np.where(rng.random(truth.shape) < 0.6, truth, rng.integers(0, 6, truth.shape))
    iou = iou_per_class(pixel_confusion(truth, pred, 6))
    expected = jaccard_score(truth.ravel(), pred.ravel(), labels=range(6), average=None)
    np.testing.assert_allclose(iou, expected)
    metrics = segmentation_metrics(truth, pred, [str(c) for c in range(6)], np.zeros(4, int))
    macro = jaccard_score(truth.ravel(), pred.ravel(), average="macro")
    assert metrics["miou"] == pytest.approx(100 * macro)
    assert metrics["pixel_accuracy"] == pytest.approx(100 * (truth == pred).mean())


def test_a_class_absent_from_prediction_and_truth_is_excluded() -> None:
    truth = np.array([[[0, 0, 1, 1]]])
    pred = np.array([[[0, 1, 1, 1]]])
    metrics = segmentation_metrics(truth, pred, ["background", "boat", "dog"], np.array([1]))
    ious = [c["iou"] for c in metrics["per_class"]]
    assert ious == [pytest.approx(0.5), pytest.approx(2 / 3), None]
    assert metrics["miou"] == pytest.approx(100 * (0.5 + 2 / 3) / 2)  # dog neither 0 nor 1
    # A class in the truth that is never predicted does count, as 0.
    missed = segmentation_metrics(truth, np.zeros_like(truth), ["bg", "boat", "dog"], [1])
    assert [c["iou"] for c in missed["per_class"]] == [pytest.approx(0.5), 0.0, None]


def test_thresholded_iou_is_the_fraction_of_thresholds_exceeded() -> None:
    truth = np.zeros((2, 10, 10), dtype=int)
    truth[:, :, :5] = 2  # 50 pixels of class 2 in each image
    pred = truth.copy()
    pred[0, :, 5:7] = 2  # image 0: IoU 50/70 = 0.714 > 0.50, 0.55, 0.60, 0.65, 0.70: 5 of 10
    # image 1: perfect, IoU 1 > all 10 thresholds
    metrics = segmentation_metrics(truth, pred, ["bg", "a", "b"], np.array([2, 2]))
    assert metrics["thresholded_iou"] == pytest.approx(100 * (5 / 10 + 10 / 10) / 2)


def test_soft_iou_loss() -> None:
    target = torch.tensor([[[0, 1], [1, 2]]])
    perfect = 50.0 * torch.nn.functional.one_hot(target, 3).movedim(-1, 1).float()
    assert soft_iou_loss(perfect, target).item() == pytest.approx(0.0, abs=1e-6)
    assert soft_iou_loss(-perfect, target).item() == pytest.approx(1.0, abs=1e-6)
    # Uniform probabilities 1/3: class 1 has I = 2/3, U = 4/3 + 2 - 2/3 = 8/3, and so on.
    uniform = torch.zeros(1, 3, 2, 2)
    i = torch.tensor([1 / 3, 2 / 3, 1 / 3])
    u = torch.tensor([4 / 3 + 1 - 1 / 3, 4 / 3 + 2 - 2 / 3, 4 / 3 + 1 - 1 / 3])
    assert soft_iou_loss(uniform, target).item() == pytest.approx((1 - i / u).mean().item())


def test_deeplabv3_head_only() -> None:
    torch.manual_seed(0)
    model = build_network("deeplabv3", 6)
    assert count_parameters(model) == 256 * 6 + 6  # only the new classifier[4]
    model.train()
    assert model.model.classifier[4].training
    assert not model.model.backbone.training  # frozen BatchNorm statistics
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 6, 64, 64)


def test_deeplabv3_weights_from_a_local_file(tmp_path: Path) -> None:
    torch.manual_seed(1)
    donor = build_network("deeplabv3", 21).model
    state = {**donor.state_dict(), **{k: v for k, v in _aux_state().items()}}
    path = tmp_path / "weights.pth"
    torch.save(state, path)
    model = build_network("deeplabv3", 6, weights_path=str(path))
    conv1 = model.model.backbone.conv1.weight
    assert torch.equal(conv1, donor.backbone.conv1.weight)


def _aux_state() -> dict[str, torch.Tensor]:
    """The auxiliary head's weights, which torchvision's pretrained file also holds."""
    from torchvision.models.segmentation import deeplabv3_resnet50

    full = deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
    return {k: v for k, v in full.state_dict().items() if k.startswith("aux_classifier")}


def test_deeplabv3_offline_without_a_file_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(tv_api, "load_state_dict_from_url", offline)
    with pytest.raises(UserError, match="weights_path") as err:
        download_weights(tmp_path / Path(WEIGHTS.url).name)
    assert "pretrained: false" in str(err.value)
    assert Path(WEIGHTS.url).name in str(err.value)
    with pytest.raises(UserError, match="weights_path"):
        build_network("deeplabv3", 6, weights_path=str(tmp_path / "missing.pth"))


def test_the_workflow_names_torchvisions_weights_file() -> None:
    common = (Path(__file__).parents[1] / "rules" / "common.smk").read_text()
    assert f'DEEPLAB_WEIGHTS = f"{{DATA}}/weights/{Path(WEIGHTS.url).name}"' in common


CLASSES = ("boat", "dog")


def _segmentation_set(n: int, seed: int) -> ArrayDataset:
    """Bright squares (class by hue) on dark noise, with their masks."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (n, 3, 32, 32)).astype(np.uint8)
    masks = np.zeros((n, 32, 32), dtype=np.uint8)
    labels = np.arange(n) % 2
    for i, label in enumerate(labels):
        y, x = rng.integers(0, 16, 2)
        images[i, label, y : y + 12, x : x + 12] = 230
        masks[i, y : y + 12, x : x + 12] = label + 1
    return ArrayDataset(images, labels, np.arange(n), CLASSES, masks)


def test_mirrored_rows_pair_images_with_mirrored_masks() -> None:
    data = _segmentation_set(4, seed=0)
    settings = TrainSettings(epochs=1, batch_size=2, lr=1e-3, task="segmentation", mean=0, std=1)
    inputs = to_model_input(data.images, settings, mirrors=True)
    targets = to_targets(data, settings, mirrors=True)
    bright = inputs[:, 0].gt(0.8) | inputs[:, 1].gt(0.8)
    np.testing.assert_array_equal(bright.numpy(), targets.numpy() > 0)
    np.testing.assert_array_equal(targets[4:].numpy(), data.masks[:, :, ::-1])


@pytest.mark.parametrize("loss", ["cross_entropy", "soft_iou"])
def test_segmentation_training_learns_and_repeats(loss: str) -> None:
    configure_threads(1)
    train_set, val_set = _segmentation_set(48, seed=1), _segmentation_set(16, seed=2)
    settings = TrainSettings(
        epochs=4, batch_size=8, lr=1e-2, task="segmentation", loss=loss, log_every=3
    )

    def run() -> dict:
        return train(
            "UNet", train_set, val_set, settings, seed=0, device=torch.device("cpu")
        ).history

    history = run()
    assert without_timings(history) == without_timings(run())
    assert len(history["val_miou"]) == len(history["val_pixel_accuracy"]) == 4
    # Chance mIoU of 3 classes is far below this; a square is learned within 4 epochs.
    assert history["val_miou"][-1] > 50.0


def test_a_segmentation_run_needs_masks() -> None:
    data = replace(_segmentation_set(4, seed=0), masks=None)
    settings = TrainSettings(epochs=1, batch_size=2, lr=1e-3, task="segmentation")
    with pytest.raises(ValueError, match="masks"):
        train("UNet", data, data, settings, seed=0, device=torch.device("cpu"))
