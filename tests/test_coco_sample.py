"""End-to-end on real COCO 2017 data: ../shared/data/coco-sample served on 127.0.0.1."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from http_fixtures import serve_directory
from workflow_helpers import PROJECT, copy_workflow, default_config, snakemake, write_config

SAMPLE = PROJECT.parent / "shared" / "data" / "coco-sample"
SAMPLE_MD5 = "48ea07cf06cdb4ca516e016446a5fa13"
PARAMS = {"HW4Net1": 406_885, "HW4Net2": 529_765, "HW4Net3": 622_245}
SEGMENTATION = {"PoolUpsampleNet", "ConvTransposeNet", "UNet"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"real COCO sample not found at {SAMPLE}"),
]


def sample_config(base_url: str) -> dict:
    """The default config pointed at the served sample: both sets, 4 + 2 per class, 1 epoch."""
    config = default_config()
    config["data_dir"] = "data"
    config["coco"].update(
        annotations_url=f"{base_url}annotations/annotations_trainval2017.zip",
        annotations_md5=SAMPLE_MD5,
        images_url=base_url,
        annotation_sets=["train2017", "val2017"],
        per_class={"train": 4, "val": 2},
    )
    config["coco"]["download"] = {"workers": 4, "retries": 2, "timeout": 10, "backoff": 0.2}
    config["jobs"]["train"]["threads"] = 1
    for name, exp in config["experiments"].items():
        exp["enabled"] = name.startswith("coco") and exp.get("enabled", True)
        exp["seeds"] = [0]
        exp["train"] = {**exp["train"], "epochs": 1}
    return config


def test_real_coco_sample_end_to_end(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path)
    with serve_directory(SAMPLE) as base_url:
        config = write_config(workdir, sample_config(base_url))
        snakemake(workdir, "--configfile", str(config))

    summary = pd.read_csv(workdir / "results/tables/summary.csv")
    accuracy = summary[summary["metric"] == "val_accuracy"]
    assert len(accuracy) == 6
    assert sorted(accuracy["experiment"].unique()) == ["coco_gray", "coco_rgb"]
    assert dict(zip(accuracy["network"], accuracy["params"], strict=False)) == PARAMS
    assert (accuracy["params"] == accuracy["reference_params"]).all()
    miou = summary[summary["metric"] == "miou"]
    assert sorted(miou["experiment"].unique()) == ["coco_seg", "coco_seg_iou"]
    assert set(miou["network"]) == SEGMENTATION and len(miou) == 6
    assert miou["mean"].between(0, 100).all()

    manifest = pd.read_csv(workdir / "data/coco/subset/manifest.csv")
    assert manifest.groupby(["category", "split"]).size().to_dict() == {
        (c, s): n
        for c in ("boat", "cake", "couch", "dog", "motorcycle")
        for s, n in (("train", 4), ("val", 2))
    }
    assert set(manifest["annotation_set"]) <= {"train2017", "val2017"}
    for split in ("train", "val"):
        with np.load(workdir / f"data/coco/packed/{split}_masks.npz") as packed:
            masks, ids = packed["masks"], packed["ids"]
        part = manifest[manifest["split"] == split]
        assert list(ids) == list(part["image_id"])
        for mask, label in zip(masks, part["label"], strict=True):
            assert set(np.unique(mask)) <= {0, label + 1}
        assert np.mean([m.any() for m in masks]) >= 0.9  # objects survive the resize to 64
    reference = json.loads((workdir / "data/coco/subset/dataset.json").read_text())
    assert len(reference["train"]) == 20 and len(reference["val"]) == 10

    html = (workdir / "results/report/index.html").read_text()
    for network, params in PARAMS.items():
        assert network in html and str(params) in html
