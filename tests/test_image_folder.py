"""A folder of one's own images as a dataset: layout, checks, seeded split, packing, hash."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import IMG_EXTENSIONS

from visionrepro.data.image_folder import (
    IMAGE_EXTENSIONS,
    content_hash,
    folder_record,
    pack,
    read_layout,
    write_manifests,
)
from visionrepro.data.torchvision_config import SourceError

KEY = "image_folders.mine"
COLORS = {"blue": (20, 20, 220), "red": (220, 20, 20)}


def write_images(folder: Path, n: int, *, seed: int = 0) -> None:
    """n images per class of varying sizes and formats: each class a colour, with noise."""
    rng = np.random.default_rng(seed)
    for name, rgb in COLORS.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            h, w = rng.integers(10, 40, size=2)
            pixels = np.clip(rng.normal(rgb, 10, size=(h, w, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{i}.{'png' if i % 2 else 'jpg'}")


@pytest.fixture
def split_folder(tmp_path: Path) -> Path:
    """train/ (4 per class, one in a subfolder, a text file beside) and val/ (2 per class)."""
    root = tmp_path / "images"
    write_images(root / "train", 3)
    write_images(root / "val", 2, seed=1)
    (root / "train/red/nested").mkdir()
    Image.new("L", (12, 20), 128).save(root / "train/red/nested/grey.bmp")
    (root / "train/red/notes.txt").write_text("not an image")
    return root


def test_extensions_are_torchvision_s() -> None:
    assert IMAGE_EXTENSIONS == IMG_EXTENSIONS


def test_layout_lists_what_torchvision_s_image_folder_reads(split_folder: Path) -> None:
    layout = read_layout(KEY, split_folder)
    assert layout.eval_split == "val" and not layout.seeded
    for split in ("train", "val"):
        reference = ImageFolder(str(split_folder / split))
        assert layout.classes == tuple(reference.classes) == ("blue", "red")
        assert [(str(p), label) for p, label in layout.samples[split]] == reference.samples
    assert len(layout.files) == 7 + 4


def test_pack_resizes_to_rgb_squares(split_folder: Path) -> None:
    layout = read_layout(KEY, split_folder)
    data, files = pack(layout, "train", 16)
    assert data.images.shape == (7, 3, 16, 16) and data.images.dtype == np.uint8
    assert data.classes == ("blue", "red")
    assert list(data.labels) == [0, 0, 0, 1, 1, 1, 1]
    assert files[3] == "train/red/0.jpg" and files[-1] == "train/red/nested/grey.bmp"
    grey = data.images[-1]
    assert (grey == 128).all()  # an L image: three equal channels
    red = data.images[4].reshape(3, -1).mean(axis=1)
    assert red[0] > 180 and red[2] < 60  # the colour survives the resize
    record = folder_record(layout, data, files)
    assert record["per_class"] == {"blue": 3, "red": 4}
    assert record["sha256"] == content_hash(layout) and len(record["sha256"]) == 64


def test_content_hash_follows_the_images_not_the_folder_s_place(
    split_folder: Path, tmp_path: Path
) -> None:
    before = content_hash(read_layout(KEY, split_folder))
    copy = shutil.copytree(split_folder, tmp_path / "elsewhere")
    assert content_hash(read_layout(KEY, copy)) == before
    (copy / "val/blue/0.jpg").write_bytes((copy / "val/red/0.jpg").read_bytes())
    assert content_hash(read_layout(KEY, copy)) != before


def test_one_folder_is_split_by_seed_and_class(tmp_path: Path) -> None:
    write_images(tmp_path / "all", 10)
    layout = read_layout(KEY, tmp_path / "all")
    assert layout.seeded and layout.eval_split == "test"
    train, train_files = pack(layout, "train", 8, test_fraction=0.2, split_seed=3)
    test, test_files = pack(layout, "test", 8, test_fraction=0.2, split_seed=3)
    assert np.bincount(test.labels).tolist() == [2, 2]  # stratified: 20 % of each class
    assert sorted(train_files + test_files) == sorted(
        p.relative_to(tmp_path / "all").as_posix() for p in layout.files
    )
    again, _ = pack(layout, "test", 8, test_fraction=0.2, split_seed=3)
    assert np.array_equal(again.images, test.images)
    _, other_files = pack(layout, "test", 8, test_fraction=0.2, split_seed=4)
    assert other_files != test_files
    for extra in (tmp_path / "all/red").glob("[5-9].*"):  # now 10 blue, 5 red
        extra.unlink()
    uneven = read_layout(KEY, tmp_path / "all")
    for seed in range(5):
        held, _ = pack(uneven, "test", 8, test_fraction=0.2, split_seed=seed)
        assert np.bincount(held.labels).tolist() == [2, 1]


def test_an_empty_class_folder_is_named(split_folder: Path) -> None:
    (split_folder / "val/green").mkdir()
    (split_folder / "val/green/readme.txt").write_text("no images here")
    with pytest.raises(SourceError, match=r"image_folders.mine.path: the class folder .*val/green"):
        read_layout(KEY, split_folder)


def test_classes_that_differ_between_train_and_val_are_named(split_folder: Path) -> None:
    shutil.move(split_folder / "val/red", split_folder / "val/crimson")
    with pytest.raises(SourceError) as err:
        read_layout(KEY, split_folder)
    assert "only in train/: ['red'], only in val/: ['crimson']" in str(err.value)


def test_an_unreadable_image_is_named(split_folder: Path) -> None:
    (split_folder / "train/blue/1.png").write_bytes(b"not a png")
    layout = read_layout(KEY, split_folder)
    pack(layout, "val", 8)  # the other split packs
    with pytest.raises(SourceError, match=r"image_folders.mine: .*train/blue/1.png cannot be read"):
        pack(layout, "train", 8)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: None, "is not a folder"),
        (lambda root: root.mkdir(), "has no class folders"),
        (lambda root: (root / "train/a").mkdir(parents=True), "needs train/ and one of val/"),
        (
            lambda root: [(root / s / "a").mkdir(parents=True) for s in ("train", "val", "test")],
            "['train/', 'val/', 'test/']; it needs train/ and one of val/ or test/",
        ),
    ],
)
def test_a_folder_of_the_wrong_shape_says_what_is_expected(
    tmp_path: Path, make, message: str
) -> None:
    root = tmp_path / "images"
    make(root)
    with pytest.raises(SourceError, match=r"^image_folders.mine.path: ") as err:
        read_layout(KEY, root)
    assert message in str(err.value)


def test_each_split_has_a_manifest_rewritten_only_when_its_images_change(
    split_folder: Path, tmp_path: Path
) -> None:
    """The packing job's one input: unchanged (same time) on a reparse or a touched image; an
    edited train image changes train's only."""
    out = tmp_path / "manifest"
    paths = write_manifests(read_layout(KEY, split_folder), out)
    assert set(paths) == {"train", "val"}
    train, val = Path(paths["train"]), Path(paths["val"])
    assert train.read_text().splitlines()[0].startswith("train/blue/0.jpg\t")
    assert len(val.read_text().splitlines()) == 4
    times = {p: p.stat().st_mtime_ns for p in (train, val)}
    image = split_folder / "train/red/0.jpg"
    os.utime(image, ns=(image.stat().st_atime_ns, image.stat().st_mtime_ns + 10**9))
    write_manifests(read_layout(KEY, split_folder), out)
    assert {p: p.stat().st_mtime_ns for p in (train, val)} == times
    before = train.read_text()
    shutil.copy(split_folder / "train/red/2.jpg", image)
    write_manifests(read_layout(KEY, split_folder), out)
    assert train.read_text() != before and val.stat().st_mtime_ns == times[val]


def test_an_unreadable_new_image_is_named_before_any_pack_and_its_removal_changes_nothing(
    split_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "manifest"
    val = Path(write_manifests(read_layout(KEY, split_folder), out)["val"])
    written, at = val.read_text(), val.stat().st_mtime_ns
    bad = split_folder / "val/red/9.jpg"
    bad.write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(SourceError, match=r"image_folders.mine: .*val/red/9.jpg cannot be read"):
        write_manifests(read_layout(KEY, split_folder), out)
    bad.unlink()
    write_manifests(read_layout(KEY, split_folder), out)
    assert (val.read_text(), val.stat().st_mtime_ns) == (written, at)
