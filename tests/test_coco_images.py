"""Tests for fetching, converting, caching and packing COCO images and obtaining annotations.

A synthetic demo mirror is served on 127.0.0.1 (tests/http_fixtures.py) in place of the COCO
image host; the subset rows come from select_subset.
"""

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from http_fixtures import Faults, free_port, serve_directory
from PIL import Image
from pycocotools.coco import COCO

from visionrepro.data.coco import (
    OFFLINE_HINT,
    cached_image_path,
    fetch_one,
    obtain_annotations,
    obtain_images,
    pack,
)
from visionrepro.data.coco_subset import load_coco, select_subset
from visionrepro.data.datasets import ArrayDataset
from visionrepro.data.demo.coco_mirror import ANNOTATIONS_ZIP, STYLES, make_demo_mirror
from visionrepro.data.transport.archives import extract_members
from visionrepro.data.transport.fetch import DownloadError
from visionrepro.errors import UserError

CATEGORIES = ["boat", "cake", "couch", "dog", "motorcycle"]
SETS = ("train2017", "val2017")
SIZE = 64
FAST = {"retries": 2, "timeout": 5.0, "backoff": 0.0}
ZIP_URL_PATH = f"annotations/{ANNOTATIONS_ZIP}"


@dataclass
class Mirror:
    """A demo mirror on disk, its annotations and the subset manifest drawn from them."""

    root: Path
    zip_path: Path
    cocos: dict[str, COCO]
    manifest: pd.DataFrame


@dataclass
class Served:
    """The mirror served on 127.0.0.1: base URL and the fault plan / request log."""

    url: str
    faults: Faults


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    """3 + 1 exclusive images per category; the subset takes all of them (3 train + 1 val).

    That includes every greyscale and CMYK JPEG of the mirror (two of each per set).
    """
    root = tmp_path_factory.mktemp("mirror")
    zip_path = make_demo_mirror(root, images_per_class={"train2017": 3, "val2017": 1}, seed=0)
    members = [f"annotations/instances_{s}.json" for s in SETS]
    paths = extract_members(zip_path, members, tmp_path_factory.mktemp("annotations"))
    cocos = {s: load_coco(p) for s, p in zip(SETS, paths, strict=True)}
    manifest = select_subset(cocos, CATEGORIES, 3, 1, seed=0)
    return Mirror(root, zip_path, cocos, manifest)


@pytest.fixture
def served(mirror: Mirror) -> Iterator[Served]:
    faults = Faults()
    with serve_directory(mirror.root, faults) as url:
        yield Served(url, faults)


def _key(row: pd.Series | dict) -> str:
    """The served path of a manifest row's image."""
    return f"{row['annotation_set']}/{row['file_name']}"


def _cached(cache: Path, row: pd.Series | dict) -> Path:
    return cached_image_path(cache, row["annotation_set"], row["file_name"])


def _rows(mirror: Mirror) -> list[dict]:
    return mirror.manifest.to_dict("records")


def _source_mode(mirror: Mirror, row: dict) -> str:
    with Image.open(mirror.root / _key(row)) as img:
        return img.mode


def _expected(mirror: Mirror, row: dict) -> np.ndarray:
    """PIL's own decode + RGB conversion + area resize of the source JPEG."""
    with Image.open(mirror.root / _key(row)) as img:
        return np.asarray(img.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BOX))


def _load(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        assert (img.format, img.mode, img.size) == ("PNG", "RGB", (SIZE, SIZE)), path
        return np.asarray(img)


def test_fetches_all_then_nothing(mirror: Mirror, served: Served, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    rows = _rows(mirror)
    assert len(rows) == 20
    assert obtain_images(mirror.manifest, served.url, cache, size=SIZE, workers=4, **FAST) == 20
    assert sorted(served.faults.hits) == sorted(_key(r) for r in rows)
    assert set(served.faults.hits.values()) == {1}
    for row in rows:
        assert _cached(cache, row) == cache / row["annotation_set"] / (
            Path(row["file_name"]).stem + ".png"
        )
        _load(_cached(cache, row))
    assert sorted(p.name for p in cache.rglob("*")) == sorted(
        [*SETS, *(f"{Path(r['file_name']).stem}.png" for r in rows)]
    ), "temporary or unexpected files in the cache"

    before = len(served.faults.requests)
    assert obtain_images(mirror.manifest, served.url, cache, size=SIZE, workers=4, **FAST) == 0
    assert len(served.faults.requests) == before, "a cached image was requested again"


def test_refetches_exactly_missing_and_corrupt(
    mirror: Mirror, served: Served, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    obtain_images(mirror.manifest, served.url, cache, size=SIZE, workers=4, **FAST)
    rows = _rows(mirror)
    deleted, corrupted = rows[2], rows[11]
    good = _load(_cached(cache, corrupted)).copy()
    _cached(cache, deleted).unlink()
    _cached(cache, corrupted).write_bytes(b"\x89PNG garbage, not an image" * 20)
    # A truncated PNG counts as unreadable too.
    truncated = rows[7]
    data = _cached(cache, truncated).read_bytes()
    _cached(cache, truncated).write_bytes(data[: len(data) // 2])
    before = len(served.faults.requests)

    assert obtain_images(mirror.manifest, served.url, cache, size=SIZE, workers=4, **FAST) == 3
    again = sorted(path for path, _ in served.faults.requests[before:])
    assert again == sorted(_key(r) for r in (deleted, corrupted, truncated))
    np.testing.assert_array_equal(_load(_cached(cache, corrupted)), good)
    for row in (deleted, truncated):
        np.testing.assert_array_equal(_load(_cached(cache, row)), _expected(mirror, row))


def test_conversion_and_colors(mirror: Mirror, served: Served, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    obtain_images(mirror.manifest, served.url, cache, size=SIZE, workers=4, **FAST)
    modes = {}
    strongly_colored = 0
    for row in _rows(mirror):
        mode = modes[_key(row)] = _source_mode(mirror, row)
        got = _load(_cached(cache, row))
        # Exactly PIL's decode -> RGB -> BOX resize, whatever the JPEG's mode.
        np.testing.assert_array_equal(got, _expected(mirror, row))
        if mode == "L":
            assert (got[..., 0] == got[..., 1]).all() and (got[..., 1] == got[..., 2]).all()

        # Channel means of the whole image are those of the source (area resize keeps them).
        with Image.open(mirror.root / _key(row)) as src:
            src_mean = np.asarray(src.convert("RGB"), dtype=float).mean(axis=(0, 1))
        got_mean = got.astype(float).mean(axis=(0, 1))
        np.testing.assert_allclose(got_mean, src_mean, atol=2.0)
        if abs(src_mean[0] - src_mean[2]) > 10:
            strongly_colored += 1  # a red/blue swap would move these by more than 2

        # Inside the drawn object the colour is the category's (jitter +-10 plus JPEG loss).
        coco = mirror.cocos[row["annotation_set"]]
        cat_id = coco.getCatIds(catNms=[row["category"]])[0]
        ann = next(
            a
            for a in coco.loadAnns(coco.getAnnIds(imgIds=[row["image_id"]], catIds=[cat_id]))
            if not a["iscrowd"]
        )
        mask = Image.fromarray(coco.annToMask(ann).astype(np.float32))
        inside = np.asarray(mask.resize((SIZE, SIZE), Image.Resampling.BOX)) > 0.999
        assert inside.sum() >= 20, row
        color = np.array(STYLES[row["category"]][1], dtype=float)
        if mode == "L":
            color = np.full(3, 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2])
        object_mean = got[inside].astype(float).mean(axis=0)
        np.testing.assert_allclose(object_mean, color, atol=20, err_msg=f"{row} ({mode})")
    assert sorted(set(modes.values())) == ["CMYK", "L", "RGB"]
    assert list(modes.values()).count("CMYK") == 4 and list(modes.values()).count("L") == 4
    assert strongly_colored >= 3


def test_fetch_one_reports_fetched_or_cached(
    mirror: Mirror, served: Served, tmp_path: Path
) -> None:
    row = _rows(mirror)[0]
    assert fetch_one(row, served.url, tmp_path, SIZE, **FAST) is True
    assert fetch_one(row, served.url, tmp_path, SIZE, **FAST) is False
    assert served.faults.hits[_key(row)] == 1
    np.testing.assert_array_equal(_load(_cached(tmp_path, row)), _expected(mirror, row))


def test_fetch_one_rejects_size_mismatch(mirror: Mirror, served: Served, tmp_path: Path) -> None:
    row = {**_rows(mirror)[0], "width": 10}
    with pytest.raises(DownloadError) as err:
        fetch_one(row, served.url, tmp_path, SIZE, **FAST)
    assert served.url + _key(row) in str(err.value)
    assert "annotations say 10x" in str(err.value)
    assert served.faults.hits[_key(row)] == 2
    assert not _cached(tmp_path, row).exists()


def test_garbage_from_server_names_the_url(mirror: Mirror, served: Served, tmp_path: Path) -> None:
    bad = _rows(mirror)[5]
    served.faults.corrupt.add(_key(bad))
    with pytest.raises(DownloadError) as err:
        obtain_images(mirror.manifest, served.url, tmp_path, size=SIZE, workers=4, **FAST)
    message = str(err.value)
    assert served.url + _key(bad) in message
    assert "failed after 2 attempt(s)" in message
    assert OFFLINE_HINT in message
    assert served.faults.hits[_key(bad)] == 2
    assert not _cached(tmp_path, bad).exists()


def test_unreachable_server_gives_offline_hint(mirror: Mirror, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(DownloadError) as err:
        obtain_images(mirror.manifest, url, tmp_path / "cache", size=SIZE, workers=2, **FAST)
    message = str(err.value)
    assert url in message
    assert OFFLINE_HINT in message
    assert "coco.local_dir" in message and "configs/demo.yaml" in message
    assert not list(tmp_path.rglob("*.png"))


def test_pack_matches_manifest(mirror: Mirror, served: Served, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    obtain_images(mirror.manifest, served.url, cache, size=SIZE, workers=4, **FAST)
    for split, n in (("train", 15), ("val", 5)):
        data = pack(mirror.manifest, cache, split, SIZE, CATEGORIES)
        assert isinstance(data, ArrayDataset)
        assert data.images.dtype == np.uint8
        assert data.images.shape == (n, 3, SIZE, SIZE)
        part = mirror.manifest[mirror.manifest["split"] == split]
        np.testing.assert_array_equal(data.labels, part["label"].to_numpy())
        np.testing.assert_array_equal(data.ids, part["image_id"].to_numpy())
        assert data.labels.dtype == np.int64 and data.ids.dtype == np.int64
        assert data.classes == tuple(CATEGORIES)
        for i, row in enumerate(part.to_dict("records")):
            np.testing.assert_array_equal(
                data.images[i], _load(_cached(cache, row)).transpose(2, 0, 1)
            )


# obtain_annotations ---------------------------------------------------------------------------


def _outputs(tmp_path: Path) -> list[Path]:
    return [tmp_path / "out" / f"instances_{s}.json" for s in SETS]


def _check_loaded(mirror: Mirror, outputs: list[Path]) -> None:
    for set_name, path in zip(SETS, outputs, strict=True):
        coco = load_coco(path)
        assert coco.dataset == mirror.cocos[set_name].dataset


def test_annotations_from_served_archive(mirror: Mirror, served: Served, tmp_path: Path) -> None:
    outputs = _outputs(tmp_path)
    archive = tmp_path / "download" / ANNOTATIONS_ZIP
    md5 = hashlib.md5(mirror.zip_path.read_bytes()).hexdigest()
    obtain_annotations(outputs, url=served.url + ZIP_URL_PATH, md5=md5, archive=archive, **FAST)
    assert archive.read_bytes() == mirror.zip_path.read_bytes()
    assert all(p.is_file() and not p.is_symlink() for p in outputs)
    _check_loaded(mirror, outputs)
    assert served.faults.hits[ZIP_URL_PATH] == 1


def test_annotations_wrong_md5(mirror: Mirror, served: Served, tmp_path: Path) -> None:
    outputs = _outputs(tmp_path)
    archive = tmp_path / "download" / ANNOTATIONS_ZIP
    wrong = "0" * 32
    with pytest.raises(DownloadError) as err:
        obtain_annotations(
            outputs, url=served.url + ZIP_URL_PATH, md5=wrong, archive=archive, **FAST
        )
    message = str(err.value)
    assert "MD5 mismatch" in message and wrong in message
    assert "coco.annotations_md5" in message and OFFLINE_HINT not in message  # it was reached
    assert not archive.exists() and archive.with_name(ANNOTATIONS_ZIP + ".md5-mismatch").exists()
    assert not any(p.exists() for p in outputs)


def test_annotations_from_local_archive(mirror: Mirror, tmp_path: Path) -> None:
    local = tmp_path / "coco"
    (local / "annotations").mkdir(parents=True)
    shutil.copyfile(mirror.zip_path, local / "annotations" / ANNOTATIONS_ZIP)
    outputs = _outputs(tmp_path)
    closed = f"http://127.0.0.1:{free_port()}/{ZIP_URL_PATH}"
    obtain_annotations(
        outputs,
        url=closed,
        md5="0" * 32,
        archive=tmp_path / "download" / ANNOTATIONS_ZIP,
        local_dir=str(local),
        **FAST,
    )
    assert all(p.is_file() and not p.is_symlink() for p in outputs)
    assert not (tmp_path / "download").exists()
    _check_loaded(mirror, outputs)


def test_annotations_linked_from_local_json(mirror: Mirror, tmp_path: Path) -> None:
    local = tmp_path / "coco"
    members = [f"annotations/instances_{s}.json" for s in SETS]
    sources = extract_members(mirror.zip_path, members, local / "annotations")
    outputs = _outputs(tmp_path)
    outputs[0].parent.mkdir(parents=True)
    outputs[0].write_text("stale")  # replaced by the link
    closed = f"http://127.0.0.1:{free_port()}/{ZIP_URL_PATH}"
    obtain_annotations(
        outputs,
        url=closed,
        md5="0" * 32,
        archive=tmp_path / "download" / ANNOTATIONS_ZIP,
        local_dir=str(local),
        **FAST,
    )
    for out, src in zip(outputs, sources, strict=True):
        assert out.is_symlink()
        assert out.resolve() == src.resolve()
    _check_loaded(mirror, outputs)


def test_annotations_local_dir_without_annotations(tmp_path: Path) -> None:
    local = tmp_path / "coco"
    (local / "annotations").mkdir(parents=True)
    with pytest.raises(UserError) as err:
        obtain_annotations(
            _outputs(tmp_path),
            url=f"http://127.0.0.1:{free_port()}/{ZIP_URL_PATH}",
            md5="",
            archive=tmp_path / "download" / ANNOTATIONS_ZIP,
            local_dir=str(local),
            **FAST,
        )
    message = str(err.value)
    assert "coco.local_dir" in message and ANNOTATIONS_ZIP in message
    assert "instances_train2017.json" in message
