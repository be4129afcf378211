"""Tests for the MNIST, Fashion-MNIST and CIFAR-10 adapters on tiny synthetic files."""

import hashlib
import io
import logging
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from http_fixtures import Faults, free_port, serve_directory
from PIL import Image
from torchvision.datasets import CIFAR10, MNIST, FashionMNIST

from visionrepro.data import torchvision_data as sources
from visionrepro.data.datasets import ArrayDataset
from visionrepro.data.demo.source_copies import (
    idx_bytes,
    make_cifar10_source,
    make_demo_source,
    make_idx_source,
    write_idx_files,
)
from visionrepro.data.torchvision_config import (
    CIFAR10_ARCHIVE,
    CIFAR10_CLASSES,
    DATASETS,
    SourceError,
    check_local_dirs,
    demo_copy,
)
from visionrepro.data.torchvision_data import building_dir, idx_files, idx_raw_folder, obtain, pack
from visionrepro.data.transport.archives import ArchiveError
from visionrepro.data.transport.fetch import DownloadError
from visionrepro.data.transport.urls import join_url

IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _idx_splits(seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Random 28 x 28 images and labels: 12 train, 5 test."""
    rng = np.random.default_rng(seed)
    return {
        split: (
            rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, size=n).astype(np.uint8),
        )
        for split, n in (("train", 12), ("test", 5))
    }


def _raw_contents(splits: dict) -> dict[str, bytes]:
    """The decompressed IDX file contents of the splits, by file name."""
    return {
        "train-images-idx3-ubyte": idx_bytes(splits["train"][0]),
        "train-labels-idx1-ubyte": idx_bytes(splits["train"][1]),
        "t10k-images-idx3-ubyte": idx_bytes(splits["test"][0]),
        "t10k-labels-idx1-ubyte": idx_bytes(splits["test"][1]),
    }


@pytest.fixture
def idx_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    """Gzipped synthetic IDX files in tmp_path/copy, declared official by their raw MD5s only."""
    splits = _idx_splits()
    folder = tmp_path / "copy"
    write_idx_files(folder, splits)
    raw = {name: _md5(data) for name, data in _raw_contents(splits).items()}
    monkeypatch.setitem(sources.RAW_MD5, "mnist", raw)
    # The official .gz MD5s stay torchvision's, which a locally made gzip never matches.
    return folder, splits


def _assert_packed(root: Path, splits: dict, dataset: str = "mnist") -> None:
    """Both packed splits equal the arrays written, with ids 0..N-1 and torchvision's classes."""
    for split, (images, labels) in splits.items():
        data = pack(dataset, root, split)
        assert data.images.dtype == np.uint8 and data.images.shape == (len(images), 1, 28, 28)
        assert np.array_equal(data.images[:, 0], images)
        assert data.labels.dtype == np.int64 and np.array_equal(data.labels, labels)
        assert np.array_equal(data.ids, np.arange(len(images)))
        assert data.classes == tuple(MNIST.classes if dataset == "mnist" else FashionMNIST.classes)


def test_cifar10_archive_name_is_torchvisions() -> None:
    assert CIFAR10.filename == CIFAR10_ARCHIVE


def test_raw_md5_table_matches_torchvision_resources() -> None:
    for dataset, cls in (("mnist", MNIST), ("fashion_mnist", FashionMNIST)):
        files = idx_files(dataset)
        assert [f.name for f in files] == list(IDX_NAMES)
        assert [f.gz_md5 for f in files] == [md5 for _, md5 in cls.resources]
        assert len({f.raw_md5 for f in files} | {f.gz_md5 for f in files}) == 8


def test_local_gzip_accepted_by_decompressed_md5(
    idx_copy: tuple[Path, dict], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder, splits = idx_copy
    root = tmp_path / "raw"
    with caplog.at_level(logging.INFO, logger="visionrepro.data.torchvision_data"):
        obtain("mnist", root, tmp_path / "dl", local_dir=str(folder))
    message = "gzip differs from the official file; decompressed content matches the official MD5"
    assert caplog.text.count(message) == 4
    assert sorted(p.name for p in idx_raw_folder(root, "mnist").iterdir()) == sorted(IDX_NAMES)
    assert idx_raw_folder(root, "mnist") == root / "MNIST" / "raw"
    assert not (tmp_path / "dl").exists()  # nothing downloaded
    _assert_packed(root, splits)


def test_local_uncompressed_files(
    idx_copy: tuple[Path, dict], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, splits = idx_copy
    plain = tmp_path / "plain"
    write_idx_files(plain, splits, gzipped=False)
    assert sorted(p.name for p in plain.iterdir()) == sorted(IDX_NAMES)
    with caplog.at_level(logging.INFO, logger="visionrepro.data.torchvision_data"):
        obtain("mnist", tmp_path / "raw", tmp_path / "dl", local_dir=str(plain))
    assert caplog.text.count("uncompressed content matches the official MD5") == 4
    _assert_packed(tmp_path / "raw", splits)


def test_local_gzip_identical_to_official(
    idx_copy: tuple[Path, dict],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder, _ = idx_copy
    official = [(f"{n}.gz", _md5((folder / f"{n}.gz").read_bytes())) for n in IDX_NAMES]
    monkeypatch.setattr(MNIST, "resources", official)
    with caplog.at_level(logging.INFO, logger="visionrepro.data.torchvision_data"):
        obtain("mnist", tmp_path / "raw", tmp_path / "dl", local_dir=str(folder))
    assert caplog.text.count("matches the official MD5") == 4
    assert "gzip differs" not in caplog.text


def test_md5_mismatch_names_file_and_fix(
    idx_copy: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = idx_copy
    monkeypatch.setitem(sources.RAW_MD5["mnist"], "t10k-labels-idx1-ubyte", "0" * 32)
    root = tmp_path / "raw"
    with pytest.raises(SourceError) as err:
        obtain("mnist", root, tmp_path / "dl", local_dir=str(folder))
    message = str(err.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and "0" * 32 in message
    assert "mnist.local_dir" in message and "mnist.md5_check" in message
    assert not root.exists() and not (tmp_path / "raw.part").exists()  # nothing half-written


def test_md5_check_off_accepts_any_copy(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    splits = _idx_splits(1)
    write_idx_files(tmp_path / "copy", splits)
    with caplog.at_level(logging.INFO, logger="visionrepro.data.torchvision_data"):
        obtain(
            "fashion_mnist",
            tmp_path / "raw",
            tmp_path / "dl",
            local_dir=str(tmp_path / "copy"),
            md5_check=False,
        )
    assert caplog.text.count("not checked (fashion_mnist.md5_check is false)") == 4
    assert (tmp_path / "raw" / "FashionMNIST" / "raw").is_dir()
    _assert_packed(tmp_path / "raw", splits, "fashion_mnist")


def test_missing_local_file_names_key(idx_copy: tuple[Path, dict], tmp_path: Path) -> None:
    folder, _ = idx_copy
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(SourceError, match=r"mnist\.local_dir: .*train-labels-idx1-ubyte\.gz"):
        obtain("mnist", tmp_path / "raw", tmp_path / "dl", local_dir=str(folder))


def test_truncated_gzip_is_an_error(idx_copy: tuple[Path, dict], tmp_path: Path) -> None:
    folder, _ = idx_copy
    gz = folder / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:500])
    with pytest.raises(SourceError, match="train-images-idx3-ubyte.gz: cannot be decompressed"):
        obtain("mnist", tmp_path / "raw", tmp_path / "dl", local_dir=str(folder))
    assert not (tmp_path / "raw").exists()


def _official_gz(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Declare the gzipped files in folder to be the official ones (torchvision's MD5s)."""
    resources = [(f"{n}.gz", _md5((folder / f"{n}.gz").read_bytes())) for n in IDX_NAMES]
    monkeypatch.setattr(MNIST, "resources", resources)


def test_mirror_url_with_md5_check_and_resume(
    idx_copy: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, splits = idx_copy
    _official_gz(folder, monkeypatch)
    faults = Faults(cut_after={"mnist/train-images-idx3-ubyte.gz": 2000})
    (tmp_path / "www").mkdir()
    folder.rename(tmp_path / "www" / "mnist")
    with serve_directory(tmp_path / "www", faults) as base:
        obtain("mnist", tmp_path / "raw", tmp_path / "dl", url=base + "mnist", backoff=0)
    assert ("mnist/train-images-idx3-ubyte.gz", "bytes=2000-") in faults.requests
    assert _visible(tmp_path / "dl") == sorted(f"{n}.gz" for n in IDX_NAMES)
    _assert_packed(tmp_path / "raw", splits)


def test_mirror_serving_other_files_fails_md5(
    idx_copy: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = idx_copy
    _official_gz(folder, monkeypatch)
    faults = Faults(corrupt={"t10k-images-idx3-ubyte.gz"})
    with (
        serve_directory(folder, faults) as base,
        pytest.raises(DownloadError, match="MD5 mismatch") as err,
    ):
        obtain("mnist", tmp_path / "raw", tmp_path / "dl", url=base, backoff=0)
    assert "mnist.url" in str(err.value) and "configs/demo.yaml" in str(err.value)
    assert not (tmp_path / "raw").exists()
    assert not (tmp_path / "dl" / "t10k-images-idx3-ubyte.gz").exists()


def test_official_mirrors_tried_in_order(
    idx_copy: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, splits = idx_copy
    _official_gz(folder, monkeypatch)
    dead = f"http://127.0.0.1:{free_port()}/mnist/"
    with serve_directory(folder) as base:
        monkeypatch.setattr(MNIST, "mirrors", [dead, base])
        obtain("mnist", tmp_path / "raw", tmp_path / "dl", retries=1, backoff=0)
    _assert_packed(tmp_path / "raw", splits)


def _cifar_batches(
    folder: Path, n_train: int = 10, n_test: int = 4
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """A tiny cifar-10-python.tar.gz in folder (real layout); return the images per split (N x
    32 x 32 x 3) and the MD5s of the archive's members."""
    rng = np.random.default_rng(5)
    members: dict[str, bytes] = {}
    images = {}
    per_batch = n_train // 5
    train = rng.integers(0, 256, size=(n_train, 32, 32, 3), dtype=np.uint8)
    images["train"], labels = train, rng.integers(0, 10, size=n_train)
    for b in range(5):
        part = slice(b * per_batch, (b + 1) * per_batch)
        entry = {"data": train[part].transpose(0, 3, 1, 2).reshape(per_batch, -1)}
        entry["labels"] = labels[part].tolist()
        members[f"data_batch_{b + 1}"] = pickle.dumps(entry)
    test = rng.integers(0, 256, size=(n_test, 32, 32, 3), dtype=np.uint8)
    images["test"] = test
    entry = {"data": test.transpose(0, 3, 1, 2).reshape(n_test, -1), "labels": [7] * n_test}
    members["test_batch"] = pickle.dumps(entry)
    members["batches.meta"] = pickle.dumps({"label_names": list(CIFAR10_CLASSES)})
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / CIFAR10.filename, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return images, {name: _md5(data) for name, data in members.items()}


def _declare_official_batches(folder: Path, md5s: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CIFAR10, "tgz_md5", _md5((folder / CIFAR10.filename).read_bytes()))
    monkeypatch.setattr(CIFAR10, "train_list", [[n, md5s[n]] for n, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5s["test_batch"]]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5s["batches.meta"]})


def _assert_batches(root: Path, images: dict, md5_check: bool = True) -> None:
    for split in ("train", "test"):
        data = pack("cifar10", root, split, md5_check=md5_check)
        assert data.images.shape == (len(images[split]), 3, 32, 32)
        assert np.array_equal(data.images.transpose(0, 2, 3, 1), images[split])
        assert data.classes == CIFAR10_CLASSES
        assert np.array_equal(data.ids, np.arange(len(images[split])))


def test_cifar10_official_archive_local_and_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images, md5s = _cifar_batches(tmp_path / "copy")
    _declare_official_batches(tmp_path / "copy", md5s, monkeypatch)
    obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=str(tmp_path / "copy"))
    assert (tmp_path / "raw" / "cifar-10-batches-py" / "data_batch_5").is_file()
    _assert_batches(tmp_path / "raw", images)
    url = (tmp_path / "copy").as_uri() + "/"
    obtain("cifar10", tmp_path / "raw2", tmp_path / "dl", url=url)
    assert (tmp_path / "dl" / CIFAR10.filename).is_file()
    _assert_batches(tmp_path / "raw2", images)


def test_cifar10_archive_md5(tmp_path: Path) -> None:
    images, _ = _cifar_batches(tmp_path / "copy")  # not the official archive
    with pytest.raises(SourceError, match=r"MD5 .*cifar10\.md5_check"):
        obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=str(tmp_path / "copy"))
    assert not (tmp_path / "raw").exists()
    local = str(tmp_path / "copy" / CIFAR10.filename)  # the archive itself also works
    obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=local, md5_check=False)
    with pytest.raises(SourceError, match="cifar10.md5_check"):  # torchvision's batch MD5s
        pack("cifar10", tmp_path / "raw", "train")
    _assert_batches(tmp_path / "raw", images, md5_check=False)


def _image_folder(root: Path) -> Path:
    """A small CIFAR-style image folder: 2 train and 1 test JPEG per class."""
    make_cifar10_source(root, {"train": 2, "test": 1}, seed=1)
    return root


def _tar_gz(path: Path, folder: Path, arcname: str = ".") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return path


def test_cifar10_image_folder(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "jpeg")
    obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=str(folder))
    assert (tmp_path / "raw" / "train").is_symlink()
    train = pack("cifar10", tmp_path / "raw", "train")
    assert train.images.shape == (20, 3, 32, 32) and train.classes == CIFAR10_CLASSES
    assert np.array_equal(train.labels, np.repeat(np.arange(10), 2))
    assert np.array_equal(train.ids, np.arange(20))
    with Image.open(folder / "train" / "horse" / "0001.jpg") as img:
        assert np.array_equal(train.images[15], np.asarray(img.convert("RGB")).transpose(2, 0, 1))
    test = pack("cifar10", tmp_path / "raw", "test")
    assert np.array_equal(test.labels, np.arange(10))


@pytest.mark.parametrize("arcname", [".", "cifar10-jpeg"])
def test_cifar10_image_folder_tar_gz(tmp_path: Path, arcname: str) -> None:
    folder = _image_folder(tmp_path / "jpeg")
    archive = _tar_gz(tmp_path / "cifar10-jpeg.tar.gz", folder, arcname)
    obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=str(archive))
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["test", "train"]
    from_tar = pack("cifar10", tmp_path / "raw", "train")
    obtain("cifar10", tmp_path / "raw2", tmp_path / "dl", local_dir=str(folder))
    assert np.array_equal(from_tar.images, pack("cifar10", tmp_path / "raw2", "train").images)


def test_cifar10_wrong_class_folders(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "jpeg")
    (folder / "test" / "horse").rename(folder / "test" / "pony")
    with pytest.raises(SourceError) as err:
        obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=str(folder))
    message = str(err.value)
    assert "pony" in message and "'horse'" in message and "cifar10.local_dir" in message
    assert not (tmp_path / "raw").exists()
    archive = _tar_gz(tmp_path / "bad.tar.gz", folder)
    with pytest.raises(SourceError, match="pony"):
        obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=str(archive))
    assert not (tmp_path / "raw").exists() and not (tmp_path / "raw.part").exists()


def test_cifar10_wrong_image_size(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "jpeg")
    Image.new("RGB", (64, 64)).save(folder / "train" / "cat" / "0000.jpg")
    obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=str(folder))
    with pytest.raises(SourceError, match=r"cat/0000\.jpg is 64x64, expected 32x32"):
        pack("cifar10", tmp_path / "raw", "train")


def _tar_with(path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        ok = tarfile.TarInfo("train/airplane/0000.jpg")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"ok"))
        member.size = len(data) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (tarfile.TarInfo("../evil.txt"), "path traversal"),
        (tarfile.TarInfo("train/../../evil.txt"), "path traversal"),
        (tarfile.TarInfo("/tmp/evil.txt"), "absolute"),
        (_symlink("train/link", "/etc/passwd"), "not a regular file"),
    ],
)
def test_unsafe_tar_member_rejected(tmp_path: Path, member: tarfile.TarInfo, reason: str) -> None:
    archive = _tar_with(tmp_path / "evil.tar.gz", member, b"pwned")
    (tmp_path / "work").mkdir()
    with pytest.raises(ArchiveError, match=reason) as err:
        obtain("cifar10", tmp_path / "work" / "raw", tmp_path / "dl", local_dir=str(archive))
    assert member.name in str(err.value)
    assert not (tmp_path / "evil.txt").exists()
    assert _visible(tmp_path / "work") == []


def test_building_dir_leaves_nothing_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    (tmp_path / "raw.part").mkdir()  # left over from an interrupted run
    (tmp_path / "raw.part" / "stale").write_text("x")
    with pytest.raises(RuntimeError), building_dir(dest) as part:
        assert list(part.iterdir()) == []
        (part / "half").write_text("x")
        raise RuntimeError("interrupted")
    assert _visible(tmp_path) == []
    with building_dir(dest) as part:
        (part / "whole").write_text("x")
    assert _visible(tmp_path) == ["raw"]


def _visible(folder: Path) -> list[str]:
    """The names in folder, without the hidden lock files of shared files (`.<name>.lock`)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


def test_check_local_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the demo's relative paths

    def config(**local: str) -> dict:
        return {name: {"local_dir": local.get(name, "")} for name in DATASETS}

    check_local_dirs(config(mnist=str(tmp_path)))
    (tmp_path / "copy.tar.gz").write_bytes(b"")
    check_local_dirs(config(cifar10=str(tmp_path / "copy.tar.gz")))
    for name in DATASETS:
        with pytest.raises(SourceError, match=rf"^{name}\.local_dir: '.*nope' does not exist"):
            check_local_dirs(config(**{name: str(tmp_path / "nope")}))
    demo = {"sources_dir": "data/demo/sources"}
    generated = config(fashion_mnist="data/demo/sources/fashion_mnist/")
    check_local_dirs(generated, demo)  # not there yet: the workflow generates it
    assert demo_copy("fashion_mnist", "data/demo/sources/fashion_mnist/", demo) == (
        "data/demo/sources/fashion_mnist"
    )
    assert demo_copy("mnist", "elsewhere", demo) is None
    with pytest.raises(SourceError):
        check_local_dirs(generated)


def _nearest_centroid_accuracy(train: ArrayDataset, test: ArrayDataset) -> float:
    """Test accuracy of a nearest-class-mean classifier on raw pixels."""
    x = train.images.reshape(len(train), -1).astype(float)
    centroids = np.stack([x[train.labels == c].mean(0) for c in range(len(train.classes))])
    y = test.images.reshape(len(test), -1).astype(float)
    guess = ((y[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    return float((guess == test.labels).mean())


@pytest.mark.parametrize("dataset", DATASETS)
def test_demo_sources_real_formats_and_learnable(tmp_path: Path, dataset: str) -> None:
    counts = {"train": 200, "test": 100}
    make_demo_source(
        tmp_path / "copy",
        dataset,
        idx_images=counts,
        cifar10_per_class={"train": 20, "test": 10},
        seed=0,
    )
    if dataset != "cifar10":
        names = sorted(p.name for p in (tmp_path / "copy").iterdir())
        assert names == sorted(f"{n}.gz" for n in IDX_NAMES)
    obtain(
        dataset,
        tmp_path / "raw",
        tmp_path / "dl",
        local_dir=str(tmp_path / "copy"),
        md5_check=False,
    )
    train, test = (pack(dataset, tmp_path / "raw", s, md5_check=False) for s in ("train", "test"))
    assert len(train) == 200 and len(test) == 100
    assert np.bincount(train.labels).tolist() == [20] * 10
    assert _nearest_centroid_accuracy(train, test) > 0.4  # chance: 0.1


def test_demo_sources_are_reproducible(tmp_path: Path) -> None:
    for name in ("a", "b"):
        make_idx_source(tmp_path / name, "mnist", {"train": 20, "test": 10}, seed=3)
    for gz in (tmp_path / "a").iterdir():
        assert gz.read_bytes() == (tmp_path / "b" / gz.name).read_bytes()


def test_demo_horses_vary_in_color(tmp_path: Path) -> None:
    make_cifar10_source(tmp_path, {"train": 30, "test": 0}, seed=0)
    obtain("cifar10", tmp_path / "raw", tmp_path / "dl", local_dir=str(tmp_path))
    train = pack("cifar10", tmp_path / "raw", "train")
    horses = train.images[train.labels == CIFAR10_CLASSES.index("horse")].astype(float)
    centre = horses[:, :, 12:20, 8:24].mean(axis=(2, 3))  # the coat, mostly
    assert centre.std(axis=0).min() > 20  # coats of many colours, in every channel


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://127.0.0.1:8/mnist/", "http://127.0.0.1:8/mnist/x.gz"),
        ("http://127.0.0.1:8/mnist", "http://127.0.0.1:8/mnist/x.gz"),
        ("file:data/copy/", "file:data/copy/x.gz"),
        ("file:", "file:x.gz"),
        ("file:///abs/", "file:///abs/x.gz"),
    ],
)
def test_join_url(base: str, expected: str) -> None:
    assert join_url(base, "x.gz") == expected
