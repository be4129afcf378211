"""Image folders that cannot leak or whiten (issue 33, points 3 and 11): links that leave the
folder or loop are refused naming them, only regular files are read (a FIFO would hang the pack),
16-bit grey images keep their grey, one file never lands in both train and test, and a name with
braces (which Snakemake reads as wildcards) is refused naming the folder and the key.
"""

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from visionrepro.data.image_folder import load_image, pack, read_layout
from visionrepro.data.torchvision_config import SourceError

KEY = "image_folders.mine"


def grey_images(folder: Path, n: int, value: int = 100) -> None:
    """n small grey PNGs in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("L", (8, 8), value + i).save(folder / f"{i}.png")


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail a test that blocks (on a FIFO) after 20 s, rather than hang the suite."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("blocked for 20 s")

    before = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, before)


@pytest.fixture
def one_folder(tmp_path: Path) -> Path:
    """Two class folders of 3 images each, split by seed when packed."""
    root = tmp_path / "images"
    grey_images(root / "a", 3)
    grey_images(root / "b", 3, value=200)
    return root


def test_a_link_loop_is_refused_naming_it(one_folder: Path) -> None:
    (one_folder / "a/loop").symlink_to(".")
    with pytest.raises(SourceError, match=rf"{KEY}.path: .*a/loop is a link to .*a loop"):
        read_layout(KEY, one_folder)


@pytest.mark.usefixtures("alarm")
def test_a_class_folder_linked_to_the_root_of_the_disk_is_refused(one_folder: Path) -> None:
    (one_folder / "c").symlink_to("/")
    with pytest.raises(SourceError, match=rf"{KEY}.path: .*images/c is a link to /, outside"):
        read_layout(KEY, one_folder)


def test_an_image_linked_from_outside_is_refused(one_folder: Path, tmp_path: Path) -> None:
    grey_images(tmp_path / "elsewhere", 1)
    (one_folder / "a/9.png").symlink_to(tmp_path / "elsewhere/0.png")
    with pytest.raises(SourceError, match=r"a/9.png is a link to .*elsewhere/0.png, outside"):
        read_layout(KEY, one_folder)


@pytest.mark.usefixtures("alarm")
def test_a_fifo_named_like_an_image_is_refused_not_read(one_folder: Path) -> None:
    os.mkfifo(one_folder / "a/3.jpg")
    with pytest.raises(SourceError, match=r"a/3.jpg is not a regular file"):
        read_layout(KEY, one_folder)


@pytest.mark.usefixtures("alarm")
def test_a_file_replaced_by_a_fifo_after_listing_is_not_read(one_folder: Path) -> None:
    layout = read_layout(KEY, one_folder)
    _, test = pack(layout, "test", 4, test_fraction=0.5)
    split = "test" if "a/0.png" in test else "train"
    (one_folder / "a/0.png").unlink()
    os.mkfifo(one_folder / "a/0.png")
    with pytest.raises(SourceError, match=r"a/0.png is not a regular file"):
        pack(layout, split, 4, test_fraction=0.5)


def test_sixteen_bit_grey_keeps_its_grey(tmp_path: Path) -> None:
    path = tmp_path / "grey16.png"
    Image.fromarray(np.full((6, 6), 32896, dtype=np.uint16)).save(path)
    with Image.open(path) as img:
        assert img.mode == "I;16"  # the case PIL's own convert("RGB") turns white
    assert (load_image(path, 4, KEY) == 128).all()
    Image.fromarray(np.full((6, 6), 65535, dtype=np.uint16)).save(path)
    assert (load_image(path, 4, KEY) == 255).all()


def test_the_seeded_split_s_files_are_disjoint(one_folder: Path) -> None:
    for i in range(3, 10):
        Image.new("L", (8, 8), i).save(one_folder / f"a/{i}.png")
        Image.new("L", (8, 8), i).save(one_folder / f"b/{i}.png")
    layout = read_layout(KEY, one_folder)
    _, train = pack(layout, "train", 4, test_fraction=0.3, split_seed=1)
    _, test = pack(layout, "test", 4, test_fraction=0.3, split_seed=1)
    real = {
        split: {os.path.realpath(one_folder / f) for f in files}
        for split, files in (("train", train), ("test", test))
    }
    assert real["train"].isdisjoint(real["test"])
    assert len(real["train"]) + len(real["test"]) == 20


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_one_file_under_two_names_is_refused(one_folder: Path, link: str) -> None:
    """A link to an image of another class (inside the folder) would put one file in two
    places, possibly train and test: refused, naming both."""
    target = one_folder / "b/0.png"
    name = one_folder / "a/8.png"
    name.symlink_to(target) if link == "symlink" else name.hardlink_to(target)
    with pytest.raises(SourceError, match=r"a/8.png and .*b/0.png are the same file"):
        read_layout(KEY, one_folder)


def test_the_same_file_in_train_and_val_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "images"
    grey_images(root / "train/a", 2)
    grey_images(root / "val/a", 1)
    (root / "val/a/7.png").symlink_to(root / "train/a/1.png")
    with pytest.raises(SourceError, match=r"train/a/1.png and .*val/a/7.png are the same file"):
        read_layout(KEY, root)


@pytest.mark.parametrize("name", ["{cls}", "a}b", "x{"])
def test_braces_in_a_class_folder_name_are_refused_naming_folder_and_key(
    one_folder: Path, name: str
) -> None:
    grey_images(one_folder / name, 2)
    with pytest.raises(SourceError, match=rf"^{KEY}.path: .*braces in its name") as err:
        read_layout(KEY, one_folder)
    assert str(one_folder / name) in str(err.value)


def test_braces_in_an_image_name_are_refused(one_folder: Path) -> None:
    Image.new("L", (8, 8), 1).save(one_folder / "a/{x}.png")
    with pytest.raises(SourceError, match=r"a/\{x\}.png has braces"):
        read_layout(KEY, one_folder)
