"""Tests for the synthetic COCO 2017 demo mirror."""

from __future__ import annotations

import logging
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from visionrepro.data.demo.coco_mirror import DEMO_CATEGORIES, make_demo_mirror

COUNTS = {"train2017": 8, "val2017": 4}
MEMBERS = {s: f"annotations/instances_{s}.json" for s in COUNTS}
TARGET_IDS = {"boat": 9, "cake": 61, "couch": 63, "dog": 18, "motorcycle": 4}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, COCO]]:
    """Generate one mirror and load both annotation sets with pycocotools."""
    root = tmp_path_factory.mktemp("mirror")
    zip_path = make_demo_mirror(root, images_per_class=COUNTS, seed=3)
    extracted = tmp_path_factory.mktemp("extracted")
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(extracted)
    cocos = {s: COCO(str(extracted / member)) for s, member in MEMBERS.items()}
    return root, zip_path, cocos


def _targets_per_image(coco: COCO) -> Counter:
    """Number of distinct target categories in each image."""
    per_image: Counter = Counter()
    for cat_id in TARGET_IDS.values():
        per_image.update(coco.getImgIds(catIds=[cat_id]))
    return per_image


def _rgb(root: Path, set_name: str, info: dict) -> np.ndarray:
    """The JPEG of an image record as a float RGB array."""
    with Image.open(root / set_name / info["file_name"]) as image:
        return np.asarray(image.convert("RGB"), dtype=float)


def test_zip_members_and_layout(mirror: tuple[Path, Path, dict[str, COCO]]) -> None:
    root, zip_path, cocos = mirror
    assert zip_path == root / "annotations" / "annotations_trainval2017.zip"
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(MEMBERS.values())
    for set_name, coco in cocos.items():
        for info in coco.dataset["images"]:
            assert info["file_name"] == f"{info['id']:012d}.jpg"
            assert info["coco_url"] == (
                f"http://images.cocodataset.org/{set_name}/{info['file_name']}"
            )
            with Image.open(root / set_name / info["file_name"]) as image:
                assert image.format == "JPEG"
                assert image.size == (info["width"], info["height"])
    assert not list(root.rglob("*.part")), "temporary files left behind"


def test_coco_schema(mirror: tuple[Path, Path, dict[str, COCO]]) -> None:
    _, _, cocos = mirror
    image_keys = {"id", "file_name", "width", "height", "coco_url", "flickr_url", "license"}
    ann_keys = {"id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd"}
    train_ids = set(cocos["train2017"].getImgIds())
    assert not train_ids & set(cocos["val2017"].getImgIds())
    for coco in cocos.values():
        data = coco.dataset
        assert {"info", "licenses", "images", "annotations", "categories"} <= set(data)
        assert all(image_keys | {"date_captured"} <= set(i) for i in data["images"])
        assert all(ann_keys == set(a) for a in data["annotations"])
        cats = {c["name"]: (c["id"], c["supercategory"]) for c in data["categories"]}
        assert cats["person"] == (1, "person")
        assert cats["motorcycle"] == (4, "vehicle")
        assert cats["boat"] == (9, "vehicle")
        assert cats["dog"] == (18, "animal")
        assert cats["cake"] == (61, "food")
        assert cats["couch"] == (63, "furniture")
        assert len(cats) > 6
        licenses = {lic["id"] for lic in data["licenses"]}
        assert all(i["license"] in licenses for i in data["images"])


def test_exclusive_counts_per_category(mirror: tuple[Path, Path, dict[str, COCO]]) -> None:
    _, _, cocos = mirror
    assert sorted(TARGET_IDS) == sorted(DEMO_CATEGORIES)
    for set_name, coco in cocos.items():
        per_image = _targets_per_image(coco)
        for cat_id in TARGET_IDS.values():
            exclusive = [i for i in coco.getImgIds(catIds=[cat_id]) if per_image[i] == 1]
            assert len(exclusive) == COUNTS[set_name]


def test_distractor_images(mirror: tuple[Path, Path, dict[str, COCO]]) -> None:
    _, _, cocos = mirror
    for coco in cocos.values():
        per_image = _targets_per_image(coco)
        all_ids = coco.getImgIds()
        assert sum(n >= 2 for n in per_image.values()) >= 2
        no_target = [i for i in all_ids if per_image[i] == 0]
        assert no_target
        assert all(coco.getAnnIds(imgIds=[i]) for i in no_target)
        with_person = set(coco.getImgIds(catIds=[1]))
        assert any(per_image[i] == 1 for i in with_person)


def test_crowd_rle_and_masks(mirror: tuple[Path, Path, dict[str, COCO]]) -> None:
    _, _, cocos = mirror
    for coco in cocos.values():
        crowd = [a for a in coco.dataset["annotations"] if a["iscrowd"] == 1]
        assert crowd
        for ann in crowd:
            info = coco.imgs[ann["image_id"]]
            assert isinstance(ann["segmentation"]["counts"], list)
            assert ann["segmentation"]["size"] == [info["height"], info["width"]]
        for ann in coco.dataset["annotations"]:
            mask = coco.annToMask(ann)
            info = coco.imgs[ann["image_id"]]
            assert mask.shape == (info["height"], info["width"])
            assert mask.sum() == ann["area"] > 0
            x, y, w, h = ann["bbox"]
            ys, xs = np.nonzero(mask)
            assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x, y, x + w, y + h)


def test_masks_line_up_with_drawn_objects(mirror: tuple[Path, Path, dict[str, COCO]]) -> None:
    root, _, cocos = mirror
    for set_name, coco in cocos.items():
        for image_id, info in coco.imgs.items():
            pixels = _rgb(root, set_name, info)
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
            masks = [coco.annToMask(a).astype(bool) for a in anns]
            background = ~np.any(masks, axis=0)
            bg_mean = pixels[background].mean(axis=0)
            for mask in masks:
                inside = pixels[mask]
                obj_mean = inside.mean(axis=0)
                assert np.linalg.norm(obj_mean - bg_mean) > 40
                closer = np.linalg.norm(inside - obj_mean, axis=1) < np.linalg.norm(
                    inside - bg_mean, axis=1
                )
                assert closer.mean() > 0.9, f"{set_name}/{info['file_name']} mask misaligned"


def test_grey_and_cmyk_jpegs(mirror: tuple[Path, Path, dict[str, COCO]]) -> None:
    root, _, cocos = mirror
    for set_name, coco in cocos.items():
        modes: Counter = Counter()
        for info in coco.dataset["images"]:
            with Image.open(root / set_name / info["file_name"]) as image:
                modes[image.mode] += 1
        assert modes["L"] >= 1
        assert modes["CMYK"] >= 1
        assert modes["RGB"] > modes["L"] + modes["CMYK"]
        assert set(modes) == {"RGB", "L", "CMYK"}


def test_deterministic(tmp_path: Path) -> None:
    counts = {"train2017": 2, "val2017": 1}
    zips = [make_demo_mirror(tmp_path / d, images_per_class=counts, seed=7) for d in "ab"]
    assert zips[0].read_bytes() == zips[1].read_bytes()
    with zipfile.ZipFile(zips[0]) as first, zipfile.ZipFile(zips[1]) as second:
        for member in MEMBERS.values():
            assert first.read(member) == second.read(member)
    files = [
        sorted(p.relative_to(tmp_path / d) for p in (tmp_path / d).rglob("*.jpg")) for d in "ab"
    ]
    assert files[0] == files[1]
    assert all(
        (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files[0]
    )
    other = make_demo_mirror(tmp_path / "c", images_per_class=counts, seed=8)
    assert other.read_bytes() != zips[0].read_bytes()


def test_logs_one_line_per_set(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test_demo")
    with caplog.at_level(logging.INFO, logger="test_demo"):
        make_demo_mirror(tmp_path, images_per_class={"train2017": 1, "val2017": 2}, log=log)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("train2017:") and "dog=1" in lines[0]
    assert lines[1].startswith("val2017:") and "boat=2" in lines[1]


@pytest.mark.parametrize("counts", [{"test2017": 1}, {"train2017": -1}, {"val2017": 1.5}])
def test_rejects_bad_counts(tmp_path: Path, counts: dict) -> None:
    with pytest.raises(ValueError):
        make_demo_mirror(tmp_path, images_per_class=counts)
    assert not any(tmp_path.iterdir())
