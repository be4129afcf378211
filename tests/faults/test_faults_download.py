"""Fault matrix, downloads and the data cache: each fault injected by a server on 127.0.0.1
(tests/http_fixtures.py; every server loop ends by itself), first on the library, then on the
tiny demo workflow (slow)."""

import gzip
import hashlib
import io
import shutil
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from http_fixtures import Faults, Served, serve_directory, serve_files, silent_server
from workflow_helpers import copy_workflow, demo_like_config, planned_jobs, snakemake, write_config

from visionrepro.data.coco import (
    REFETCH_HINT,
    CacheError,
    cached_image_path,
    obtain_annotations,
    obtain_images,
    pack,
)
from visionrepro.data.coco_subset import load_coco, select_subset
from visionrepro.data.demo.coco_mirror import ANNOTATIONS_ZIP, make_demo_mirror
from visionrepro.data.transport.archives import (
    ArchiveError,
    check_archive,
    extract_members,
    extract_tar,
)
from visionrepro.data.transport.fetch import DownloadError, fetch_file, fetch_parsed

BLOB = bytes(range(256)) * 1200  # 307,200 bytes
BLOB_MD5 = hashlib.md5(BLOB).hexdigest()
ZIP_PATH = f"annotations/{ANNOTATIONS_ZIP}"
SETS = ("train2017", "val2017")
CATEGORIES = ["boat", "cake", "couch", "dog", "motorcycle"]
FAST = {"retries": 2, "timeout": 0.5, "backoff": 0.0}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """Serve tmp_path/www, holding blob.bin, with an empty fault plan."""
    with serve_files(tmp_path / "www", {"blob.bin": BLOB}) as served:
        yield served


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo COCO mirror (2 + 1 images per class)."""
    root = tmp_path_factory.mktemp("mirror")
    make_demo_mirror(root, images_per_class={"train2017": 2, "val2017": 1}, seed=0)
    return root


# Already working: MD5, traversal, resume, 500, unresponsive host -------------------------------


def test_md5_mismatch_is_refused_and_kept_aside(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "blob.bin"
    with pytest.raises(DownloadError, match="MD5 mismatch") as err:
        fetch_file(served.url + "blob.bin", dest, md5="0" * 32, **FAST)
    assert served.url + "blob.bin" in str(err.value)
    assert list(tmp_path.glob("blob.bin*")) == [tmp_path / "blob.bin.md5-mismatch"]


@pytest.mark.parametrize("bad", ["../evil.txt", "annotations/../../evil.txt", "/tmp/evil.txt"])
def test_path_traversal_members_are_refused(tmp_path: Path, bad: str) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("annotations/ok.json", "{}")
        zf.writestr(bad, "pwned")
    with pytest.raises(ArchiveError, match="refusing"):
        extract_members(archive, ["annotations/ok.json", bad], tmp_path / "out")
    tar = tmp_path / "a.tar.gz"
    with tarfile.open(tar, "w:gz") as tf:
        info = tarfile.TarInfo(bad)
        info.size = 5
        tf.addfile(info, io.BytesIO(b"pwned"))
    with pytest.raises(ArchiveError, match="refusing"):
        extract_tar(tar, tmp_path / "tar_out")
    assert not list(tmp_path.rglob("evil.txt")) and not Path("/tmp/evil.txt").exists()


def test_dropped_connection_resumes_with_range(served: Served, tmp_path: Path) -> None:
    served.faults.cut_after["blob.bin"] = 100_000
    fetch_file(served.url + "blob.bin", tmp_path / "blob.bin", md5=BLOB_MD5, **FAST)
    assert (tmp_path / "blob.bin").read_bytes() == BLOB
    assert served.faults.requests == [("blob.bin", None), ("blob.bin", "bytes=100000-")]


def test_500_then_ok(served: Served, tmp_path: Path) -> None:
    served.faults.fail_status, served.faults.fail_first["blob.bin"] = 500, 1
    fetch_file(served.url + "blob.bin", tmp_path / "blob.bin", md5=BLOB_MD5, **FAST)
    assert (tmp_path / "blob.bin").read_bytes() == BLOB
    assert served.faults.hits["blob.bin"] == 2


def test_unresponsive_host_fails_in_bounded_time(tmp_path: Path) -> None:
    with silent_server() as url:
        started = time.monotonic()
        with pytest.raises(DownloadError, match="timed out") as err:
            fetch_file(url + "x.bin", tmp_path / "x.bin", **FAST)
        took = time.monotonic() - started
    assert url + "x.bin" in str(err.value)
    assert took < 5  # two attempts of 0.5 s (the defaults: 15 s each, 50 s in all)
    assert not list(tmp_path.glob("x.bin*"))


# Issue 12.3: a download without an MD5 is trusted only once verified ---------------------------


def _annotation_outputs(tmp_path: Path) -> list[Path]:
    return [tmp_path / "out" / f"instances_{s}.json" for s in SETS]


def _truncated_copy(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = source.read_bytes()
    dest.write_bytes(data[: len(data) * 2 // 3])


def test_truncated_archive_without_md5_is_refetched_once_fixed(
    mirror: Path, tmp_path: Path
) -> None:
    good = mirror / ZIP_PATH
    www = tmp_path / "www"
    _truncated_copy(good, www / ZIP_PATH)
    archive = tmp_path / "downloads" / ANNOTATIONS_ZIP
    outputs = _annotation_outputs(tmp_path)
    faults = Faults()
    with serve_directory(www, faults) as url:
        with pytest.raises(DownloadError) as err:
            obtain_annotations(outputs, url=url + ZIP_PATH, md5="", archive=archive, **FAST)
        message = str(err.value)
        assert str(archive) in message and "not usable" in message and url + ZIP_PATH in message
        assert not archive.exists() and not archive.with_name(ANNOTATIONS_ZIP + ".part").exists()
        assert not any(p.exists() for p in outputs)
        shutil.copyfile(good, www / ZIP_PATH)  # the mirror is fixed
        before = faults.hits[ZIP_PATH]
        obtain_annotations(outputs, url=url + ZIP_PATH, md5="", archive=archive, **FAST)
        assert faults.hits[ZIP_PATH] == before + 1
    assert archive.read_bytes() == good.read_bytes()
    assert load_coco(outputs[0]).dataset["images"]


def test_corrupt_archive_left_by_an_old_run_is_not_trusted(mirror: Path, tmp_path: Path) -> None:
    archive = tmp_path / "downloads" / ANNOTATIONS_ZIP
    _truncated_copy(mirror / ZIP_PATH, archive)  # what an unchecked earlier run kept
    outputs = _annotation_outputs(tmp_path)
    faults = Faults()
    with serve_directory(mirror, faults) as url:
        obtain_annotations(outputs, url=url + ZIP_PATH, md5="", archive=archive, **FAST)
    assert faults.hits[ZIP_PATH] == 1
    assert archive.read_bytes() == (mirror / ZIP_PATH).read_bytes()


def test_archive_without_a_needed_member_is_refused(mirror: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    (www / "annotations").mkdir(parents=True)
    with zipfile.ZipFile(www / ZIP_PATH, "w") as zf:
        zf.writestr("annotations/instances_train2017.json", "{}")
    archive = tmp_path / ANNOTATIONS_ZIP
    with serve_directory(www) as url, pytest.raises(DownloadError) as err:
        obtain_annotations(
            _annotation_outputs(tmp_path), url=url + ZIP_PATH, md5="", archive=archive, **FAST
        )
    assert "instances_val2017.json" in str(err.value) and str(archive) in str(err.value)
    assert not archive.exists()


def test_truncated_gzip_without_md5_is_refused(served: Served, tmp_path: Path) -> None:
    data = gzip.compress(BLOB)
    (served.root / "x.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DownloadError, match="not usable"):
        fetch_file(served.url + "x.gz", tmp_path / "x.gz", verify=check_archive, **FAST)
    assert not list(tmp_path.glob("x.gz*"))


# Issue 12.4: a trickling server gets a deadline per file ---------------------------------------


def test_trickling_server_fails_by_the_deadline_naming_the_url(
    served: Served, tmp_path: Path
) -> None:
    served.faults.trickle["blob.bin"] = 20.0  # bytes/s, for at most 10 s per request
    url = served.url + "blob.bin"
    started = time.monotonic()
    with pytest.raises(DownloadError, match="min_rate") as err:
        # deadline per attempt: 0.5 s + 307,200 bytes at 1 MB/s = 0.8 s
        fetch_file(url, tmp_path / "blob.bin", min_rate=1e6, **FAST)
    took = time.monotonic() - started
    assert url in str(err.value) and "too slow" in str(err.value)
    assert served.faults.hits["blob.bin"] == 2  # retried, then failed
    assert took < 4
    with pytest.raises(DownloadError, match="too slow"):
        fetch_parsed(url, bytes, min_rate=1e6, **FAST)


def test_slow_but_steady_transfer_within_min_rate_succeeds(served: Served, tmp_path: Path) -> None:
    (served.root / "small.bin").write_bytes(b"x" * 40)
    served.faults.trickle["small.bin"] = 100.0  # 0.4 s in all
    got = fetch_parsed(served.url + "small.bin", bytes, min_rate=10.0, **FAST)  # allowed: 0.5 + 4 s
    assert got == b"x" * 40


# Issue 12.7: a truncated cached image --------------------------------------------------------


def test_truncated_cached_image_is_named_and_refetched(mirror: Path, tmp_path: Path) -> None:
    paths = extract_members(
        mirror / ZIP_PATH, [f"annotations/instances_{s}.json" for s in SETS], tmp_path / "ann"
    )
    manifest = select_subset(
        {s: load_coco(p) for s, p in zip(SETS, paths, strict=True)}, CATEGORIES, 2, 1, seed=0
    )
    cache = tmp_path / "cache"
    with serve_directory(mirror) as url:
        obtain_images(manifest, url, cache, size=64, workers=2, **FAST)
        before = pack(manifest, cache, "train", 64, CATEGORIES)
        row = manifest[manifest["split"] == "train"].iloc[3]
        cached = cached_image_path(cache, row["annotation_set"], row["file_name"])
        cached.write_bytes(cached.read_bytes()[:200])
        with pytest.raises(CacheError) as err:
            pack(manifest, cache, "train", 64, CATEGORIES)
        assert str(cached) in str(err.value) and REFETCH_HINT in str(err.value)
        assert obtain_images(manifest, url, cache, size=64, workers=2, **FAST) == 1
    after = pack(manifest, cache, "train", 64, CATEGORIES)
    np.testing.assert_array_equal(after.images, before.images)


# The same on the tiny demo workflow ----------------------------------------------------------

DATA_TARGETS = [
    *(f"data/demo/coco/packed/{s}{m}.npz" for s in ("train", "val") for m in ("", "_masks")),
    *(f"data/demo/{d}/packed/{s}.npz" for d in ("mnist", "cifar10") for s in ("train", "test")),
    "results/runs/coco_gray/HW4Net1/seed0/model.pt",
]
MIRROR_ZIP = f"data/demo/mirror/{ZIP_PATH}"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy after the data chain and one training run of the tiny demo."""
    workdir = copy_workflow(tmp_path_factory.mktemp("download_faults"))
    config = write_config(workdir, demo_like_config())
    snakemake(workdir, *DATA_TARGETS, "--configfile", str(config))
    return workdir


@pytest.mark.slow
def test_download_settings_and_url_spelling_rerun_nothing(finished: Path) -> None:
    config = demo_like_config()
    config["coco"]["download"] = {
        "workers": 1,
        "retries": 7,
        "timeout": 3,
        "backoff": 0.1,
        "min_rate": 123,
    }
    config["coco"]["annotations_url"] = f"file:./{MIRROR_ZIP}"
    config["coco"]["images_url"] = "file:./data/demo/mirror"
    for name in ("mnist", "cifar10"):
        config[name]["url"] = f"http://127.0.0.1:9/{name}/"
        config[name]["download"] = {"workers": 2, "timeout": 1, "min_rate": 10}
    path = write_config(finished, config, "respelled.yaml")
    assert planned_jobs(finished, *DATA_TARGETS, "--configfile", str(path)) == {}
    # The content still decides: an MD5 for the archive reruns the chain from it.
    config["coco"]["annotations_md5"] = hashlib.md5(
        (finished / MIRROR_ZIP).read_bytes()
    ).hexdigest()
    path = write_config(finished, config, "md5.yaml")
    planned = planned_jobs(finished, *DATA_TARGETS, "--configfile", str(path))
    assert {"coco_annotations", "coco_subset", "coco_images", "train"} <= set(planned)


@pytest.mark.slow
def test_truncated_cached_image_in_the_workflow(finished: Path) -> None:
    config = str(finished / "test_config.yaml")
    packed = finished / "data/demo/coco/packed/train.npz"
    before = packed.read_bytes()
    index = pd.read_csv(finished / "data/demo/coco/images64/index.csv")
    cached = finished / index["path"].iloc[5]
    cached.write_bytes(cached.read_bytes()[:300])
    proc = snakemake(
        finished, *DATA_TARGETS, "--configfile", config, "-R", "coco_pack", check=False
    )
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert str(index["path"].iloc[5]) in out and "-R coco_images" in out
    snakemake(finished, *DATA_TARGETS, "--configfile", config, "-R", "coco_images")
    np.testing.assert_array_equal(np.load(packed)["images"], np.load(io.BytesIO(before))["images"])


@pytest.fixture
def mirror_workdir(tmp_path: Path) -> tuple[Path, Path]:
    """A scratch copy with the demo's mirror generated (and nothing else)."""
    (tmp_path / "work").mkdir()
    workdir = copy_workflow(tmp_path / "work")
    config = write_config(workdir, demo_like_config())
    snakemake(workdir, MIRROR_ZIP, "--configfile", str(config))
    return workdir, workdir / "data/demo/mirror"


@pytest.mark.slow
def test_truncated_served_archive_then_fixed_server(mirror_workdir: tuple[Path, Path]) -> None:
    workdir, mirror = mirror_workdir
    www = workdir.parent / "www"
    _truncated_copy(mirror / ZIP_PATH, www / ZIP_PATH)
    faults = Faults()
    target = "data/demo/coco/subset/manifest.csv"
    with serve_directory(www, faults) as url:
        config = demo_like_config()
        config["coco"].update(annotations_url=url + ZIP_PATH, annotations_md5="")
        config["coco"]["download"] = {"retries": 2, "timeout": 2, "backoff": 0}
        path = str(write_config(workdir, config, "served.yaml"))
        proc = snakemake(workdir, target, "--configfile", path, check=False)
        assert proc.returncode != 0
        log = (workdir / "results/logs/data/coco_annotations.log").read_text()
        assert f"data/demo/coco/downloads/{ANNOTATIONS_ZIP} is not usable" in log
        assert not (workdir / "data/demo/coco/downloads" / ANNOTATIONS_ZIP).exists()
        shutil.copyfile(mirror / ZIP_PATH, www / ZIP_PATH)
        hits = faults.hits[ZIP_PATH]
        snakemake(workdir, target, "--configfile", path)
        assert faults.hits[ZIP_PATH] == hits + 1
    assert len(pd.read_csv(workdir / target)) == 5 * (8 + 4)


@pytest.mark.slow
def test_trickling_image_server_fails_the_run_naming_the_url(
    mirror_workdir: tuple[Path, Path],
) -> None:
    workdir, mirror = mirror_workdir
    faults = Faults(trickle_for=5.0)
    with serve_directory(mirror, faults) as url:
        config = demo_like_config()
        config["coco"].update(images_url=url)
        config["coco"]["download"] = {"retries": 2, "timeout": 1, "backoff": 0, "min_rate": 1e6}
        path = str(write_config(workdir, config, "trickle.yaml"))
        subset = "data/demo/coco/subset/manifest.csv"
        snakemake(workdir, subset, "--configfile", path)
        row = pd.read_csv(workdir / subset).iloc[0]
        key = f"{row['annotation_set']}/{row['file_name']}"
        faults.trickle[key] = 20.0
        started = time.monotonic()
        packed = "data/demo/coco/packed/train.npz"
        proc = snakemake(workdir, packed, "--configfile", path, check=False)
        took = time.monotonic() - started
    assert proc.returncode != 0
    log = (workdir / "results/logs/data/coco_images.log").read_text()
    assert url + key in log and "too slow" in log and "min_rate" in log
    assert faults.hits[key] == 2
    assert took < 60
