"""Issue 23, points 5 to 8: a data folder two projects share, damaged intermediates, raw errors
and what the full-scale rehearsal found. Faulty servers run on 127.0.0.1
(tests/http_fixtures.py) and every server loop ends by itself."""

import hashlib
import io
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from http_fixtures import Served, serve_files
from PIL import Image
from training_helpers import CPU, brightness_dataset
from workflow_helpers import copy_workflow, demo_like_config, snakemake, write_config

from visionrepro import fileio
from visionrepro.data.coco import obtain_annotations, obtain_images
from visionrepro.data.coco_subset import load_coco
from visionrepro.data.color import load_palette, save_palette
from visionrepro.data.datasets import ArrayDataset, DamagedFileError
from visionrepro.data.demo.coco_mirror import ANNOTATIONS_ZIP, make_demo_mirror
from visionrepro.data.torchvision_data import building_dir
from visionrepro.data.transport.archives import extract_members
from visionrepro.data.transport.fetch import ChecksumError, ContentError, fetch_file
from visionrepro.engine.checkpoints import save_trained
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import train
from visionrepro.fileio import DiskFullError
from visionrepro.report.tables import TableError, check_table

BLOB = bytes(range(256)) * 1200  # 307,200 bytes
BLOB_MD5 = hashlib.md5(BLOB).hexdigest()
FAST = {"retries": 2, "timeout": 2.0, "backoff": 0.0}
ZIP_PATH = f"annotations/{ANNOTATIONS_ZIP}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """Serve tmp_path/www, holding blob.bin, with an empty fault plan."""
    with serve_files(tmp_path / "www", {"blob.bin": BLOB}) as served:
        yield served


# 5. Two projects sharing one data folder -------------------------------------------------------


def test_two_fetches_of_one_shared_file_at_once_end_with_one_good_copy(
    served: Served, tmp_path: Path
) -> None:
    # The server holds each request until a second one for the file comes (at most 1 s), so
    # without a lock both fetches write the same file at the same time.
    served.faults.together["blob.bin"] = 2
    dest = tmp_path / "shared" / "blob.bin"
    start = threading.Barrier(2)

    def fetch(_: int) -> Path:
        start.wait()
        return fetch_file(served.url + "blob.bin", dest, md5=BLOB_MD5, **FAST)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(fetch, range(2)))
    assert results == [dest, dest]
    assert dest.read_bytes() == BLOB
    assert served.faults.hits["blob.bin"] == 1  # the second found the first one's copy
    assert sorted(p.name for p in dest.parent.iterdir()) == [".blob.bin.lock", "blob.bin"]


# 8. An MD5 mismatch against a mirror that was reached -------------------------------------------


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo COCO mirror (2 + 1 images per class)."""
    root = tmp_path_factory.mktemp("mirror")
    make_demo_mirror(root, images_per_class={"train2017": 2, "val2017": 1}, seed=0)
    return root


def test_md5_mismatch_names_the_key_keeps_the_file_and_a_rerun_adopts_it(
    mirror: Path, tmp_path: Path
) -> None:
    good = (mirror / ZIP_PATH).read_bytes()
    actual = hashlib.md5(good).hexdigest()
    archive = tmp_path / "downloads" / ANNOTATIONS_ZIP
    outputs = [tmp_path / "out" / f"instances_{s}.json" for s in ("train2017", "val2017")]
    with serve_files(tmp_path / "www", {ZIP_PATH: good}) as served:
        url = served.url + ZIP_PATH
        with pytest.raises(ChecksumError) as err:
            obtain_annotations(outputs, url=url, md5="0" * 32, archive=archive, **FAST)
        message = str(err.value)
        kept = archive.with_name(ANNOTATIONS_ZIP + ".md5-mismatch")
        assert "coco.annotations_md5" in message and actual in message
        assert str(kept) in message and kept.read_bytes() == good
        assert "mirror, or coco.local_dir" not in message  # no offline hint: it was reached
        assert not archive.exists()
        obtain_annotations(outputs, url=url, md5=actual, archive=archive, **FAST)
        assert served.faults.hits[ZIP_PATH] == 1  # the kept file, not a second download
    assert archive.read_bytes() == good and not kept.exists()
    assert all(p.is_file() for p in outputs)


def test_two_builds_of_one_shared_folder_take_turns(tmp_path: Path) -> None:
    dest = tmp_path / "shared" / "raw"
    first_in, order = threading.Event(), []

    def build(name: str) -> None:
        with building_dir(dest) as part:
            order.append(f"{name} in")
            (part / "who").write_text(name)
            first_in.set()
            second_waits.wait(0.5)  # bounded: without the lock the second one runs meanwhile
            order.append(f"{name} out")

    second_waits = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(build, "first")
        first_in.wait(5)
        second = pool.submit(build, "second")
        first.result(), second.result()
    assert order == ["first in", "first out", "second in", "second out"]
    assert (dest / "who").read_text() == "second"
    assert not dest.with_name("raw.part").exists()


# 6. Damaged intermediates -----------------------------------------------------------------------


def _small_pack(path: Path) -> None:
    images = np.zeros((4, 3, 8, 8), dtype=np.uint8)
    ArrayDataset(images, np.arange(4), np.arange(4), ("a", "b", "c", "d")).save(path)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_pack_names_the_file_to_delete(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "train.npz"
    _small_pack(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"garbage" * 100)
    with pytest.raises(DamagedFileError) as err:
        ArrayDataset.load(path)
    assert f"delete {path} and rerun" in str(err.value)


def test_damaged_palette_names_the_file_not_numpy_advice(tmp_path: Path) -> None:
    path = tmp_path / "seed0.npz"
    save_palette(path, np.eye(3, dtype=np.float32))
    path.write_bytes(b"garbage" * 10)
    with pytest.raises(DamagedFileError) as err:
        load_palette(path)
    message = str(err.value)
    assert "damaged palette" in message and f"delete {path}" in message
    assert "allow_pickle" not in message and "unsafely" not in message


@pytest.mark.parametrize(
    "garbage", [b"", b"\xff\xfe\x00garbage", b"a,b\n1,2\n", b'experiment,x\n"open quote\n']
)
def test_garbage_in_a_result_table_names_the_file(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / "summary.csv"
    assert check_table(str(path)) == str(path)  # missing: to be made
    path.write_bytes(garbage)
    with pytest.raises(TableError) as err:
        check_table(str(path))
    assert f"{path} " in str(err.value) and "Delete it and rerun" in str(err.value)
    path.write_text("experiment,variant\ncoco_gray,HW4Net1\n")
    assert check_table(str(path)) == str(path)


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A scratch copy of the workflow that has not run."""
    (tmp_path / "project").mkdir()
    return copy_workflow(tmp_path / "project")


@pytest.mark.slow
def test_garbage_in_summary_csv_stops_the_run_and_keeps_the_report(fresh: Path) -> None:
    tables, page = fresh / "results" / "tables", fresh / "results" / "report" / "index.html"
    tables.mkdir(parents=True)
    page.parent.mkdir(parents=True)
    (tables / "summary.csv").write_text("not,a,summary\n1,2,3\n")
    page.write_text("the report so far")
    proc = snakemake(fresh, "--configfile", "configs/demo.yaml", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "results/tables/summary.csv has no 'experiment' column" in out
    assert "Delete it and rerun" in out and "KeyError" not in out
    assert page.read_text() == "the report so far"
    assert not (fresh / "data").exists()  # stopped while planning: no job ran


# 7. Raw errors ---------------------------------------------------------------------------------


def _image_bytes(size: tuple[int, int], fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(out, format=fmt)
    return out.getvalue()


def test_decompression_bomb_stops_the_fetch_naming_url_and_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PIL refuses images over 2 x MAX_IMAGE_PIXELS; lowered so a 200 x 200 image is a bomb.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    names = [f"{i:012d}.jpg" for i in range(8)]
    files = {f"train2017/{n}": _image_bytes((32, 32)) for n in names}
    files[f"train2017/{names[0]}"] = _image_bytes((200, 200), "PNG")  # the bomb, first
    rows = [
        {
            "image_id": i,
            "file_name": n,
            "annotation_set": "train2017",
            "coco_url": f"http://images.cocodataset.org/train2017/{n}",
            "width": 200 if i == 0 else 32,
            "height": 200 if i == 0 else 32,
        }
        for i, n in enumerate(names)
    ]
    with serve_files(tmp_path / "www", files) as served, pytest.raises(ContentError) as err:
        obtain_images(pd.DataFrame(rows), served.url, tmp_path / "cache", size=16, workers=1)
    message = str(err.value)
    assert f"{served.url}train2017/{names[0]}" in message
    assert f"train2017/{names[0]}" in message and "decompression bomb" in message
    assert "coco.local_dir" not in message  # the server was reached: no offline hint
    others = sum(served.faults.hits[f"train2017/{n}"] for n in names[1:])
    assert others <= 1  # stopped there, not after every other download


# 8. Found at full scale -------------------------------------------------------------------------


def test_pycocotools_progress_goes_to_the_log_not_the_terminal(
    mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    (path,) = extract_members(mirror / ZIP_PATH, ["annotations/instances_val2017.json"], tmp_path)
    caplog.set_level(logging.INFO)
    assert load_coco(path).dataset["images"]
    assert capsys.readouterr().out == ""
    logged = [r.getMessage() for r in caplog.records]
    assert "pycocotools instances_val2017.json: loading annotations into memory..." in logged
    assert "pycocotools instances_val2017.json: index created!" in logged


@pytest.mark.slow
def test_snakefile_run_from_another_folder_reads_its_config(fresh: Path) -> None:
    other = fresh.parent / "other"
    other.mkdir()
    demo = "../project/configs/demo.yaml"
    proc = snakemake(other, "-s", "../project/Snakefile", "--configfile", demo, "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Config file ../project/config.yaml is extended" in out


@pytest.mark.slow
def test_directory_outside_the_project_finds_the_report_captions(fresh: Path) -> None:
    proc = snakemake(
        fresh, "--configfile", "configs/demo.yaml", "--directory", "../other", "-n", check=False
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "report_html" in out


@pytest.mark.slow
def test_an_unknown_top_level_key_is_named_without_the_schema(fresh: Path) -> None:
    (fresh / "bad.yaml").write_text("bogus_top: 1\n")
    proc = snakemake(fresh, "--configfile", "configs/demo.yaml", "bad.yaml", "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "config: Additional properties are not allowed ('bogus_top' was unexpected)" in out
    assert "$schema" not in out and len(out.splitlines()) < 40


def _full_disk_under(dest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make atomic_path's next temporary file for dest a link to /dev/full (every write fails
    with ENOSPC, as on a full disk)."""
    monkeypatch.setattr(fileio.uuid, "uuid4", lambda: uuid.UUID(int=0))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.with_name(f".{dest.name}.{os.getpid()}.00000000.tmp").symlink_to("/dev/full")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_disk_full_while_saving_a_model_says_no_space_left_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = brightness_dataset(8, seed=6)
    settings = TrainSettings(epochs=1, batch_size=4, lr=1e-3, log_every=5)
    state = train("HW4Net1", data, data, settings, seed=0, device=CPU)
    dest = tmp_path / "runs" / "model.pt"
    _full_disk_under(dest, monkeypatch)
    with pytest.raises(DiskFullError) as err:
        save_trained(dest, state, data.classes)
    assert "No space left on device" in str(err.value) and str(dest) in str(err.value)
    assert "enforce fail" not in str(err.value)
    assert list(dest.parent.iterdir()) == []  # no partial file, the temporary removed


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_disk_full_while_writing_json_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "metrics.json"
    _full_disk_under(dest, monkeypatch)
    with pytest.raises(DiskFullError, match="No space left on device") as err:
        fileio.write_json(dest, {"accuracy": 0.5})
    assert str(dest) in str(err.value)


def _one_run_config() -> dict:
    """The tiny demo with one classification run (coco_gray, HW4Net1, seed 0)."""
    config = demo_like_config()
    for name, exp in config["experiments"].items():
        exp["enabled"] = name == "coco_gray"
    config["experiments"]["coco_gray"]["networks"] = ["HW4Net1"]
    return config


@pytest.mark.slow
def test_truncated_pack_names_it_leaves_no_stale_metrics_and_recovers(fresh: Path) -> None:
    write_config(fresh, _one_run_config(), "one.yaml")
    snakemake(fresh, "--configfile", "one.yaml")
    run = fresh / "results" / "runs" / "coco_gray" / "HW4Net1" / "seed0"
    pack_path = fresh / "data" / "demo" / "coco" / "packed" / "train.npz"
    good_metrics = _scores(run / "metrics.json")
    data = pack_path.read_bytes()
    pack_path.write_bytes(data[: len(data) // 2])  # newer than model.pt: training reruns
    proc = snakemake(fresh, "--configfile", "one.yaml", check=False)
    out = proc.stdout + proc.stderr
    log = (fresh / "results/logs/train/coco_gray/HW4Net1/seed0.log").read_text()
    assert proc.returncode != 0
    assert "delete data/demo/coco/packed/train.npz and rerun" in log and "BadZipFile" in log
    assert not (run / "model.pt").exists() and not (run / "metrics.json").exists(), out
    pack_path.unlink()  # what the message says
    snakemake(fresh, "--configfile", "one.yaml")
    assert _scores(run / "metrics.json") == good_metrics  # the same run again


def _scores(path: Path) -> dict:
    """A metrics.json without its timings and provenance (which differ from run to run)."""
    metrics = json.loads(path.read_text())
    return {k: v for k, v in metrics.items() if k not in TIMINGS}


TIMINGS = ("train_seconds", "images_per_second", "provenance")
