"""MNIST, Fashion-MNIST and CIFAR-10 (torchvision's datasets) as a data source: obtain the
official files (or a local copy or mirror) and pack each split into the engine's uint8 format.

Layout under a dataset's `raw` folder, which is the root torchvision's dataset classes read:

    raw/MNIST/raw/<the four IDX files, decompressed>            (mnist)
    raw/FashionMNIST/raw/<the four IDX files, decompressed>     (fashion_mnist)
    raw/cifar-10-batches-py/<batches>    (cifar10, from cifar-10-python.tar.gz)
    raw/train/<class>/*, raw/test/<class>/*    (cifar10, from an image-folder copy)

URLs and MD5s of the official files come from torchvision's dataset classes at runtime.
"""

import gzip
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torchvision.datasets import CIFAR10, MNIST, FashionMNIST, ImageFolder
from torchvision.datasets.folder import find_classes

from visionrepro.data.datasets import ArrayDataset
from visionrepro.data.torchvision_config import CIFAR10_CLASSES, DATASETS, SPLITS, SourceError
from visionrepro.data.transport.archives import check_archive, extract_tar
from visionrepro.data.transport.fetch import DEMO_HINT, DownloadError, fetch_file
from visionrepro.data.transport.urls import join_url
from visionrepro.fileio import file_digest, lock_file, locked, stream_digest

log = logging.getLogger(__name__)

IDX_CLASSES: dict[str, type[MNIST]] = {"mnist": MNIST, "fashion_mnist": FashionMNIST}

# MD5s of the *decompressed* official IDX files (torchvision's MD5s are of the .gz files, whose
# gzip wrappers differ between copies). Computed by decompressing the real copies in
# ../shared/data/mnist (whose README states three of them) and Debian's dataset-fashion-mnist
# (/usr/share/datasets/fashion-mnist); all eight equal the values published by other MNIST and
# Fashion-MNIST loaders.
RAW_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}



@dataclass(frozen=True)
class IdxFile:
    """One of the four IDX files: its name (decompressed) and the official MD5s."""

    name: str
    gz_md5: str
    raw_md5: str


def idx_files(dataset: str) -> list[IdxFile]:
    """The IDX files of mnist or fashion_mnist, from torchvision's resources and RAW_MD5."""
    raw = RAW_MD5[dataset]
    files = []
    for gz_name, gz_md5 in IDX_CLASSES[dataset].resources:
        name = gz_name.removesuffix(".gz")
        files.append(IdxFile(name, gz_md5, raw[name]))
    return files


def idx_raw_folder(raw_root: Path, dataset: str) -> Path:
    """Where torchvision's class for `dataset` reads the decompressed IDX files."""
    return Path(raw_root) / IDX_CLASSES[dataset].__name__ / "raw"


@contextmanager
def building_dir(dest: Path) -> Iterator[Path]:
    """Yield an empty folder `dest.part`; it replaces dest only if the block succeeds.

    Holds dest's lock throughout, so that two runs sharing a data folder build it in turn (a
    `dest.part` found under the lock is left over from an interrupted run).
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    with locked(lock_file(dest)):
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
        try:
            yield part
            if dest.is_symlink() or dest.is_file():
                dest.unlink()
            elif dest.exists():
                shutil.rmtree(dest)
            os.replace(part, dest)
        finally:
            shutil.rmtree(part, ignore_errors=True)


def obtain(
    dataset: str, raw_root: Path, downloads: Path, *, workers: int = 4, **options: Any
) -> None:
    """Build `raw_root` for a dataset from local_dir if set, else from url or the official URLs.

    Downloads are kept in `downloads` (resumable, MD5-checked); raw_root appears complete or
    not at all. `options` are those of `obtain_idx` / `obtain_cifar10` (url, local_dir,
    md5_check) and fetch_file's (retries, timeout, backoff, min_rate).
    """
    if dataset in IDX_CLASSES:
        obtain_idx(dataset, raw_root, downloads, workers=workers, **options)
    elif dataset == "cifar10":
        obtain_cifar10(raw_root, downloads, **options)
    else:
        raise ValueError(f"unknown dataset {dataset!r}; known: {DATASETS}")


def obtain_idx(
    dataset: str,
    raw_root: Path,
    downloads: Path,
    *,
    url: str = "",
    local_dir: str = "",
    md5_check: bool = True,
    workers: int = 4,
    **options: Any,
) -> None:
    """Put the four decompressed IDX files where torchvision's MNIST/FashionMNIST read them.

    `options` are fetch_file's (retries, timeout, backoff, min_rate).
    """
    files = idx_files(dataset)
    if local_dir:
        sources = [_local_idx(dataset, Path(local_dir), f) for f in files]
    else:
        bases = [url] if url else list(IDX_CLASSES[dataset].mirrors)

        def fetch(f: IdxFile) -> Path:
            md5 = f.gz_md5 if md5_check else ""
            dest = Path(downloads) / f"{f.name}.gz"
            return _fetch_first(dataset, bases, dest, md5, check_archive, options)

        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(files)))) as pool:
            sources = list(pool.map(fetch, files))
    with building_dir(raw_root) as root:
        folder = idx_raw_folder(root, dataset)
        folder.mkdir(parents=True)
        for f, src in zip(files, sources, strict=True):
            raw_md5 = _decompress(src, folder / f.name)
            _check_idx(dataset, f, src, raw_md5, md5_check, downloaded=not local_dir)


def _local_idx(dataset: str, local_dir: Path, f: IdxFile) -> Path:
    """The local copy of one IDX file: name.gz, else name (not gzipped)."""
    for path in (local_dir / f"{f.name}.gz", local_dir / f.name):
        if path.is_file():
            return path
    raise SourceError(
        f"{dataset}.local_dir: {local_dir} has neither {f.name}.gz nor {f.name}; point it at "
        f"a folder with the four IDX files, or set it to '' to download them"
    )


def _fetch_first(
    dataset: str,
    bases: Sequence[str],
    dest: Path,
    md5: str,
    verify: Callable[[Path], object],
    options: dict[str, Any],
) -> Path:
    """Download dest.name from the first of the base URLs that works.

    Without an MD5, `verify` decides whether a download is usable (see fetch_file).
    """
    errors = []
    for base in bases:
        try:
            url = join_url(base, dest.name)
            return fetch_file(url, dest, md5=md5, verify=verify, log=log, **options)
        except DownloadError as err:
            errors.append(str(err))
            log.warning("%s", err)
    raise DownloadError(
        "\n".join(errors) + f"\nSet {dataset}.url to a mirror or {dataset}.local_dir to a local "
        f"copy, {DEMO_HINT}"
    )


def _decompress(src: Path, dest: Path) -> str:
    """Write src (gzipped if named *.gz) decompressed to dest; return the content's MD5."""
    opener: Callable = gzip.open if src.suffix == ".gz" else open
    try:
        with opener(src, "rb") as fin, open(dest, "wb") as out:
            return stream_digest(fin, out)
    except (OSError, EOFError) as err:
        raise SourceError(
            f"{src}: cannot be decompressed ({err}); replace it with the official file"
        ) from err


def _check_idx(
    dataset: str, f: IdxFile, src: Path, raw_md5: str, md5_check: bool, downloaded: bool
) -> None:
    """Accept src by its own MD5 or its decompressed content's; log which check passed."""
    if not md5_check:
        log.info("%s: not checked (%s.md5_check is false)", src, dataset)
        return
    if downloaded:
        log.info("%s: matches the official MD5 %s (checked on download)", src, f.gz_md5)
        return
    if src.suffix == ".gz" and file_digest(src) == f.gz_md5:
        log.info("%s: matches the official MD5 %s", src, f.gz_md5)
    elif raw_md5 == f.raw_md5:
        what = "gzip differs from the official file; decompressed" if src.suffix == ".gz" else ""
        log.info(
            "%s: %s content matches the official MD5 %s of %s",
            src,
            what or "uncompressed",
            f.raw_md5,
            f.name,
        )
    else:
        raise SourceError(
            f"{dataset}.local_dir: {src} is not the official {f.name}: its decompressed content "
            f"has MD5 {raw_md5}, expected {f.raw_md5}; replace it with the official file, set "
            f"{dataset}.local_dir to '' to download it, or set {dataset}.md5_check to false "
            "for a copy that is meant to differ"
        )


def cifar10_base_url() -> str:
    """The folder URL of torchvision's official cifar-10-python.tar.gz."""
    return CIFAR10.url.rsplit("/", 1)[0] + "/"


def cifar10_members() -> list[str]:
    """The members of cifar-10-python.tar.gz that torchvision's CIFAR10 reads."""
    names = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list]
    return [f"{CIFAR10.base_folder}/{name}" for name in [*names, CIFAR10.meta["filename"]]]


def obtain_cifar10(
    raw_root: Path,
    downloads: Path,
    *,
    url: str = "",
    local_dir: str = "",
    md5_check: bool = True,
    **options: Any,
) -> None:
    """Build raw_root: the official batches, or train/ and test/ of an image-folder copy.

    `options` are fetch_file's (retries, timeout, backoff, min_rate).
    """
    if not local_dir:
        archive = _fetch_first(
            "cifar10",
            [url or cifar10_base_url()],
            Path(downloads) / CIFAR10.filename,
            CIFAR10.tgz_md5 if md5_check else "",
            lambda path: check_archive(path, cifar10_members()),
            options,
        )
        _extract_batches(archive, raw_root)
        return
    local = Path(local_dir)
    official = local if local.name == CIFAR10.filename else local / CIFAR10.filename
    if official.is_file():
        if md5_check:
            _check_cifar10_archive(official)
        else:
            log.info("%s: not checked (cifar10.md5_check is false)", official)
        _extract_batches(official, raw_root)
    elif local.is_file():
        log.info("extracting the image-folder archive %s", local)
        with building_dir(raw_root) as root:
            extract_tar(local, root)
            _move_up(_image_folder_root(root, local), root)
            for split in SPLITS:
                check_image_folder(root / split)
    elif local.is_dir() and all((local / split).is_dir() for split in SPLITS):
        for split in SPLITS:
            check_image_folder(local / split)
        with building_dir(raw_root) as root:
            for split in SPLITS:
                # A relative local_dir gets a relative link: the project can be moved.
                target = local / split
                relative = os.path.relpath(target, raw_root)
                (root / split).symlink_to(target.resolve() if local.is_absolute() else relative)
        log.info("using the image-folder copy %s (linked)", local)
    else:
        raise SourceError(
            f"cifar10.local_dir: {local} is neither a folder with {CIFAR10.filename} or with "
            "train/<class>/ and test/<class>/ image folders, nor a .tar.gz of such folders"
        )


def _check_cifar10_archive(archive: Path) -> None:
    """Raise SourceError unless a local cifar-10-python.tar.gz has the official MD5."""
    actual = file_digest(archive)
    if actual != CIFAR10.tgz_md5:
        raise SourceError(
            f"cifar10.local_dir: {archive} has MD5 {actual}, expected {CIFAR10.tgz_md5} (the "
            f"official {CIFAR10.filename}); replace it with the official file, set "
            "cifar10.local_dir to '' to download it, or set cifar10.md5_check to false for a "
            "copy that is meant to differ"
        )
    log.info("%s: matches the official MD5 %s", archive, CIFAR10.tgz_md5)


def _extract_batches(archive: Path, raw_root: Path) -> None:
    """Extract cifar-10-python.tar.gz so that raw_root holds cifar-10-batches-py/."""
    log.info("extracting %s", archive)
    with building_dir(raw_root) as root:
        extract_tar(archive, root)
        if not (root / CIFAR10.base_folder).is_dir():
            raise SourceError(f"{archive} has no {CIFAR10.base_folder}/ folder")


def _image_folder_root(root: Path, archive: Path) -> Path:
    """The folder holding train/ and test/ in an extracted archive: its top, or its only folder."""
    candidates = [root, *(p for p in root.iterdir() if p.is_dir())]
    for folder in candidates:
        if all((folder / split).is_dir() for split in SPLITS):
            return folder
    raise SourceError(
        f"cifar10.local_dir: {archive} has no train/ and test/ folders (at its top or in one "
        "folder); expected train/<class>/*.jpg and test/<class>/*.jpg"
    )


def _move_up(folder: Path, root: Path) -> None:
    """Make train/ and test/ of folder direct children of root, dropping the rest of folder."""
    if folder != root:
        for split in SPLITS:
            os.replace(folder / split, root / split)
        shutil.rmtree(folder)


def check_image_folder(folder: Path) -> None:
    """Raise SourceError unless folder's class folders are exactly CIFAR-10's classes."""
    try:
        found, _ = find_classes(str(folder))
    except (FileNotFoundError, NotADirectoryError) as err:
        found = [f"<none: {err}>"]
    if tuple(found) != CIFAR10_CLASSES:
        raise SourceError(
            f"cifar10.local_dir: {folder} has class folders {list(found)}; expected exactly "
            f"CIFAR-10's classes {list(CIFAR10_CLASSES)}"
        )


def pack(dataset: str, raw_root: Path, split: str, *, md5_check: bool = True) -> ArrayDataset:
    """Read one split of raw_root (see `obtain`) with torchvision into an ArrayDataset."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {SPLITS}")
    raw_root = Path(raw_root)
    if dataset in IDX_CLASSES:
        return _pack_idx(dataset, raw_root, split)
    if dataset != "cifar10":
        raise ValueError(f"unknown dataset {dataset!r}; known: {DATASETS}")
    if (raw_root / CIFAR10.base_folder).is_dir():
        return _pack_batches(raw_root, split, md5_check)
    return pack_image_folder(raw_root / split)


def _pack_idx(dataset: str, raw_root: Path, split: str) -> ArrayDataset:
    """One split of MNIST or Fashion-MNIST, parsed by torchvision."""
    cls = IDX_CLASSES[dataset]
    data = cls(str(raw_root), train=split == "train", download=False)
    images = data.data.numpy()[:, None]
    return ArrayDataset(
        images=np.ascontiguousarray(images, dtype=np.uint8),
        labels=data.targets.numpy().astype(np.int64),
        ids=np.arange(len(images), dtype=np.int64),
        classes=tuple(cls.classes),
    )


def _unchecked_cifar10() -> type[CIFAR10]:
    """torchvision's CIFAR10 without its MD5 checks of the batches (for md5_check false)."""
    return type(
        "UncheckedCIFAR10",
        (CIFAR10,),
        {
            "train_list": [[name, None] for name, _ in CIFAR10.train_list],
            "test_list": [[name, None] for name, _ in CIFAR10.test_list],
            "meta": {**CIFAR10.meta, "md5": None},
        },
    )


def _pack_batches(raw_root: Path, split: str, md5_check: bool) -> ArrayDataset:
    """One split of the official python batches, parsed by torchvision."""
    cls = CIFAR10 if md5_check else _unchecked_cifar10()
    try:
        data = cls(str(raw_root), train=split == "train", download=False)
    except RuntimeError as err:
        raise SourceError(
            f"{raw_root / CIFAR10.base_folder}: {err}; delete it and rerun the workflow, or set "
            "cifar10.md5_check to false for batches that are meant to differ"
        ) from err
    if tuple(data.classes) != CIFAR10_CLASSES:
        raise SourceError(
            f"{raw_root / CIFAR10.base_folder}: label names {data.classes}, expected "
            f"{list(CIFAR10_CLASSES)}"
        )
    return ArrayDataset(
        images=np.ascontiguousarray(data.data.transpose(0, 3, 1, 2)),
        labels=np.asarray(data.targets, dtype=np.int64),
        ids=np.arange(len(data.data), dtype=np.int64),
        classes=CIFAR10_CLASSES,
    )


def pack_image_folder(folder: Path, size: int = 32) -> ArrayDataset:
    """An image-folder split (<class>/<image>), parsed by torchvision's ImageFolder.

    ids are positions in ImageFolder's order (class by class, files sorted by name).
    """
    check_image_folder(folder)
    try:
        data = ImageFolder(str(folder))
    except FileNotFoundError as err:
        raise SourceError(f"cifar10.local_dir: {folder}: {err}") from err
    images = np.empty((len(data.samples), 3, size, size), dtype=np.uint8)
    for i, (path, _) in enumerate(data.samples):
        image = data.loader(path)
        if image.size != (size, size):
            raise SourceError(
                f"cifar10.local_dir: {path} is {image.size[0]}x{image.size[1]}, expected "
                f"{size}x{size} like CIFAR-10"
            )
        images[i] = np.asarray(image).transpose(2, 0, 1)
    return ArrayDataset(
        images=images,
        labels=np.asarray(data.targets, dtype=np.int64),
        ids=np.arange(len(images), dtype=np.int64),
        classes=CIFAR10_CLASSES,
    )
