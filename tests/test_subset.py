"""Tests for drawing the exclusive-category COCO subset (select_subset, reference_json)."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from pycocotools.coco import COCO

from visionrepro.data.coco_subset import (
    MANIFEST_COLUMNS,
    SubsetError,
    load_coco,
    reference_json,
    select_subset,
)
from visionrepro.data.demo.coco_mirror import DEMO_CATEGORIES, make_demo_mirror
from visionrepro.data.transport.archives import extract_members

PER_CLASS = {"train2017": 12, "val2017": 6}  # exclusive images per category in the mirror
CATEGORIES = ["boat", "cake", "couch", "dog", "motorcycle"]
SETS = ("train2017", "val2017")


@dataclass
class Annotations:
    """The extracted instances_*.json files and their loaded COCO objects."""

    paths: dict[str, Path]
    cocos: dict[str, COCO]


@pytest.fixture(scope="module")
def annotations(tmp_path_factory: pytest.TempPathFactory) -> Annotations:
    """A demo mirror (12 + 6 exclusive images per category) with both sets loaded."""
    root = tmp_path_factory.mktemp("mirror")
    zip_path = make_demo_mirror(root, images_per_class=PER_CLASS, seed=0)
    members = [f"annotations/instances_{s}.json" for s in SETS]
    paths = dict(zip(SETS, extract_members(zip_path, members, root / "extracted"), strict=True))
    return Annotations(paths, {s: load_coco(p) for s, p in paths.items()})


def _target_ids(coco: COCO) -> dict[int, str]:
    """COCO category id -> name for the five target categories."""
    return {c["id"]: c["name"] for c in coco.dataset["categories"] if c["name"] in CATEGORIES}


def _targets_in(coco: COCO, image_id: int) -> set[str]:
    """Target categories among an image's raw annotations (crowd regions included)."""
    targets = _target_ids(coco)
    return {
        targets[a["category_id"]]
        for a in coco.dataset["annotations"]
        if a["image_id"] == image_id and a["category_id"] in targets
    }


def _eligible(cocos: dict[str, COCO], category: str) -> set[tuple[str, int]]:
    """(set, image id) of every image whose raw annotations show only `category` of the five."""
    return {
        (s, img["id"])
        for s, coco in cocos.items()
        for img in coco.dataset["images"]
        if _targets_in(coco, img["id"]) == {category}
    }


def test_mirror_matches_the_expected_eligible_counts(annotations: Annotations) -> None:
    assert sorted(DEMO_CATEGORIES) == CATEGORIES
    for category in CATEGORIES:
        assert len(_eligible(annotations.cocos, category)) == sum(PER_CLASS.values())
        assert len(_eligible({"val2017": annotations.cocos["val2017"]}, category)) == 6


def test_subset_is_exclusive_counted_and_disjoint(annotations: Annotations) -> None:
    cocos = annotations.cocos
    subset = select_subset(cocos, CATEGORIES, 8, 4, seed=0)
    assert list(subset.columns) == MANIFEST_COLUMNS
    assert len(subset) == 5 * 12

    for row in subset.itertuples():
        coco = cocos[row.annotation_set]
        assert _targets_in(coco, row.image_id) == {row.category}, row
        info = coco.imgs[row.image_id]
        assert (row.file_name, row.coco_url) == (info["file_name"], info["coco_url"])
        assert (row.width, row.height) == (info["width"], info["height"])
        assert row.label == CATEGORIES.index(row.category)

    counts = subset.groupby(["category", "split"]).size().to_dict()
    assert counts == {(c, s): n for c in CATEGORIES for s, n in (("train", 8), ("val", 4))}
    keys = list(zip(subset["annotation_set"], subset["image_id"], strict=True))
    assert len(set(keys)) == len(keys), "an image was drawn twice"
    train = set(subset.loc[subset["split"] == "train", "image_id"])
    val = set(subset.loc[subset["split"] == "val", "image_id"])
    assert train and val and not train & val
    # Both sets contribute when both are given (12 + 6 eligible, 12 drawn per category).
    assert set(subset["annotation_set"]) == set(SETS)
    assert set(subset["label"]) == set(range(5))


def test_draw_is_deterministic(annotations: Annotations) -> None:
    first = select_subset(annotations.cocos, CATEGORIES, 8, 4, seed=3)
    again = select_subset(annotations.cocos, CATEGORIES, 8, 4, seed=3)
    pd.testing.assert_frame_equal(first, again)
    fresh = {s: load_coco(p) for s, p in annotations.paths.items()}
    pd.testing.assert_frame_equal(first, select_subset(fresh, CATEGORIES, 8, 4, seed=3))
    # The order in which the sets are given does not matter either.
    swapped = {s: fresh[s] for s in reversed(SETS)}
    pd.testing.assert_frame_equal(first, select_subset(swapped, CATEGORIES, 8, 4, seed=3))


def test_category_order_only_changes_labels(annotations: Annotations) -> None:
    forward = select_subset(annotations.cocos, CATEGORIES, 8, 4, seed=2)
    backward = select_subset(annotations.cocos, CATEGORIES[::-1], 8, 4, seed=2)
    for split in ("train", "val"):  # the same images per category and split (dict equality)
        assert _per_category(backward, split) == _per_category(forward, split)
    assert (backward["label"] == [CATEGORIES[::-1].index(c) for c in backward["category"]]).all()
    assert list(backward["category"].unique()) == CATEGORIES[::-1]


def test_other_seed_draws_differently(annotations: Annotations) -> None:
    def drawn(seed: int) -> list[tuple[str, int, str]]:
        subset = select_subset(annotations.cocos, CATEGORIES, 8, 4, seed=seed)
        return list(zip(subset["annotation_set"], subset["image_id"], subset["split"], strict=True))

    assert drawn(0) != drawn(1)
    # 12 of 18 per category: a new seed changes which images are drawn, not only their order.
    assert {k[:2] for k in drawn(0)} != {k[:2] for k in drawn(1)}


def _per_category(subset: pd.DataFrame, split: str | None = None) -> dict[str, list]:
    """Per category, the drawn (set, image id) in manifest order, optionally of one split."""
    if split is not None:
        subset = subset[subset["split"] == split]
    return {
        c: list(zip(g["annotation_set"], g["image_id"], strict=True))
        for c, g in subset.groupby("category", sort=False)
    }


def test_larger_request_extends_smaller(annotations: Annotations) -> None:
    small = select_subset(annotations.cocos, CATEGORIES, 4, 2, seed=5)
    large = select_subset(annotations.cocos, CATEGORIES, 8, 4, seed=5)
    small_all, large_all = _per_category(small), _per_category(large)
    small_train, large_train = _per_category(small, "train"), _per_category(large, "train")
    for category in CATEGORIES:
        # One seeded order per category: the smaller draw (train then val) is its prefix...
        assert large_all[category][:6] == small_all[category]
        # ...so the smaller train images are the first train images of the larger draw.
        assert large_train[category][:4] == small_train[category]
    # Growing only val keeps train exactly and extends val.
    more_val = select_subset(annotations.cocos, CATEGORIES, 4, 5, seed=5)
    assert _per_category(more_val, "train") == small_train
    small_val, more_val_val = _per_category(small, "val"), _per_category(more_val, "val")
    for category in CATEGORIES:
        assert more_val_val[category][:2] == small_val[category]


def test_all_eligible_can_be_drawn(annotations: Annotations) -> None:
    subset = select_subset(annotations.cocos, CATEGORIES, 12, 6, seed=0)
    drawn = _per_category(subset)
    for category in CATEGORIES:
        assert set(drawn[category]) == _eligible(annotations.cocos, category)


def test_too_many_requested_names_category_and_counts(annotations: Annotations) -> None:
    with pytest.raises(SubsetError) as err:
        select_subset(annotations.cocos, CATEGORIES, 12, 7, seed=0)
    message = str(err.value)
    assert "'boat'" in message  # the first category that falls short
    assert "only 18 eligible" in message
    assert "19 were requested" in message
    assert isinstance(err.value, ValueError)

    only_val = {"val2017": annotations.cocos["val2017"]}
    with pytest.raises(SubsetError, match=r"only 6 eligible.*7 were requested"):
        select_subset(only_val, CATEGORIES, 5, 2, seed=0)


def test_unknown_category_is_named(annotations: Annotations) -> None:
    with pytest.raises(SubsetError) as err:
        select_subset(annotations.cocos, ["boat", "zebra", "dog"], 1, 1, seed=0)
    assert "zebra" in str(err.value)
    assert "instances_train2017.json" in str(err.value)


def test_reference_json(annotations: Annotations) -> None:
    subset = select_subset(annotations.cocos, CATEGORIES, 8, 4, seed=0)
    ref = reference_json(subset, CATEGORIES)
    assert set(ref) == {"train", "val", "categories"}
    assert ref["categories"] == CATEGORIES
    assert len(ref["train"]) == 5 * 8 and len(ref["val"]) == 5 * 4
    for split in ("train", "val"):
        part = subset[subset["split"] == split]
        expected = [
            {"img": f"{row.annotation_set}/{row.file_name}", "label": row.label}
            for row in part.itertuples()
        ]
        assert ref[split] == expected
        assert all(set(entry) == {"img", "label"} for entry in ref[split])
        assert all(type(entry["label"]) is int for entry in ref[split])
        for entry in ref[split]:
            set_name, file_name = entry["img"].split("/")
            assert set_name in SETS and file_name.endswith(".jpg")
