"""Tests for visionrepro.data.transport against a real local HTTP server with injected faults."""

import email.utils
import hashlib
import io
import logging
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_fixtures import Served, free_port, serve_files
from PIL import Image

from visionrepro.data.transport import fetch as download
from visionrepro.data.transport.archives import ArchiveError, extract_members
from visionrepro.data.transport.fetch import DownloadError, fetch_file, fetch_parsed
from visionrepro.data.transport.urls import rewrite_url, to_local_path

BLOB = os.urandom(300_000)
BLOB_MD5 = hashlib.md5(BLOB).hexdigest()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """Serve tmp_path/www (holding blob.bin and img.jpg) with an empty fault plan."""
    with serve_files(tmp_path / "www", {"sub/blob.bin": BLOB, "img.jpg": _jpeg()}) as served:
        yield served


def _jpeg() -> bytes:
    """Return a small JPEG made with Pillow."""
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 90)).save(buf, format="JPEG")
    return buf.getvalue()


def _image_size(data: bytes) -> tuple[int, int]:
    """The size of the image data decodes as; OSError/ValueError if it does not."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.size


def test_resume_after_cut_connection(
    served: Served, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    served.faults.cut_after["sub/blob.bin"] = 100_000
    dest = tmp_path / "out" / "blob.bin"
    with caplog.at_level(logging.INFO, logger="visionrepro.data.transport.fetch"):
        got = fetch_file(served.url + "sub/blob.bin", dest, md5=BLOB_MD5, backoff=0)
    assert got == dest
    assert dest.read_bytes() == BLOB
    assert not dest.with_name("blob.bin.part").exists()
    assert served.faults.requests == [("sub/blob.bin", None), ("sub/blob.bin", "bytes=100000-")]
    assert "resuming at 100000 bytes" in caplog.text
    assert "300000/300000 bytes (100 %)" in caplog.text
    assert "MB/s" in caplog.text


def test_retries_after_503(served: Served, tmp_path: Path) -> None:
    served.faults.fail_first["sub/blob.bin"] = 2
    dest = fetch_file(served.url + "sub/blob.bin", tmp_path / "b", md5=BLOB_MD5, backoff=0)
    assert dest.read_bytes() == BLOB
    assert served.faults.hits["sub/blob.bin"] == 3


def test_persistent_503_gives_up_naming_url(served: Served, tmp_path: Path) -> None:
    served.faults.fail_first["sub/blob.bin"] = 10
    url = served.url + "sub/blob.bin"
    with pytest.raises(DownloadError, match="503") as err:
        fetch_file(url, tmp_path / "b", retries=3, backoff=0)
    assert url in str(err.value)
    assert served.faults.hits["sub/blob.bin"] == 3
    assert not (tmp_path / "b").exists()


def test_404_fails_at_once(served: Served, tmp_path: Path) -> None:
    url = served.url + "missing.bin"
    with pytest.raises(DownloadError, match="404") as err:
        fetch_file(url, tmp_path / "m", retries=4, backoff=0)
    assert url in str(err.value)
    assert served.faults.hits["missing.bin"] == 1


def test_md5_mismatch_names_both_and_leaves_nothing(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "blob.bin"
    wrong = "0" * 32
    with pytest.raises(DownloadError) as err:
        fetch_file(served.url + "sub/blob.bin", dest, md5=wrong, backoff=0)
    message = str(err.value)
    assert wrong in message and BLOB_MD5 in message and served.url in message
    assert not dest.exists()
    assert not dest.with_name("blob.bin.part").exists()


def test_existing_dest_with_right_md5_is_not_refetched(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "blob.bin"
    dest.write_bytes(BLOB)
    assert fetch_file(served.url + "sub/blob.bin", dest, md5=BLOB_MD5) == dest
    assert served.faults.requests == []


def test_existing_dest_with_wrong_md5_is_refetched(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"stale")
    fetch_file(served.url + "sub/blob.bin", dest, md5=BLOB_MD5, backoff=0)
    assert dest.read_bytes() == BLOB
    assert served.faults.requests == [("sub/blob.bin", None)]


def test_complete_part_answered_416_is_accepted(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "blob.bin"
    dest.with_name("blob.bin.part").write_bytes(BLOB)
    fetch_file(served.url + "sub/blob.bin", dest, md5=BLOB_MD5, backoff=0)
    assert dest.read_bytes() == BLOB
    assert served.faults.requests == [("sub/blob.bin", f"bytes={len(BLOB)}-")]


def test_server_ignoring_range_restarts_from_zero(served: Served, tmp_path: Path) -> None:
    served.faults.ignore_range.add("sub/blob.bin")
    dest = tmp_path / "blob.bin"
    dest.with_name("blob.bin.part").write_bytes(b"x" * 1000)
    fetch_file(served.url + "sub/blob.bin", dest, md5=BLOB_MD5, backoff=0)
    assert dest.read_bytes() == BLOB
    assert served.faults.requests == [("sub/blob.bin", "bytes=1000-")]


def test_fetch_parsed_with_valid_image(served: Served) -> None:
    size = fetch_parsed(served.url + "img.jpg", _image_size, backoff=0)
    assert size == _image_size((served.root / "img.jpg").read_bytes())


def test_corrupt_image_rejected_until_retries_run_out(served: Served) -> None:
    served.faults.corrupt.add("img.jpg")
    url = served.url + "img.jpg"
    with pytest.raises(DownloadError, match="invalid content") as err:
        fetch_parsed(url, _image_size, retries=3, backoff=0)
    assert url in str(err.value)
    assert served.faults.hits["img.jpg"] == 3


def test_fetch_parsed_recovers_from_cut_connection(served: Served) -> None:
    served.faults.cut_after["sub/blob.bin"] = 5000
    assert fetch_parsed(served.url + "sub/blob.bin", bytes, backoff=0) == BLOB
    assert served.faults.hits["sub/blob.bin"] == 2


def test_unreachable_host_names_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/x.bin"
    with pytest.raises(DownloadError, match="Connection refused|refused") as err:
        fetch_file(url, tmp_path / "x.bin", retries=2, backoff=0)
    assert url in str(err.value)
    with pytest.raises(DownloadError) as err:
        fetch_parsed(url, bytes, retries=2, backoff=0)
    assert url in str(err.value)


def test_backoff_doubles_between_attempts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    monkeypatch.setattr(download, "_sleep", delays.append)
    with pytest.raises(DownloadError):
        fetch_file(f"http://127.0.0.1:{free_port()}/x", tmp_path / "x")
    assert delays == [1.0, 2.0, 4.0]


def test_file_urls_absolute_and_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "mirror" / "blob.bin"
    src.parent.mkdir()
    src.write_bytes(BLOB)
    absolute = fetch_file(src.as_uri(), tmp_path / "a.bin", md5=BLOB_MD5)
    assert absolute.read_bytes() == BLOB
    monkeypatch.chdir(tmp_path)
    relative = fetch_file("file:mirror/blob.bin", Path("r.bin"), md5=BLOB_MD5)
    assert relative.read_bytes() == BLOB
    assert fetch_parsed("file:mirror/blob.bin", bytes) == BLOB


def test_missing_local_file_names_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.bin"
    with pytest.raises(DownloadError, match="nope.bin"):
        fetch_file(missing.as_uri(), tmp_path / "out.bin")
    with pytest.raises(DownloadError, match="nope.bin"):
        fetch_parsed(missing.as_uri(), bytes)


def test_corrupt_local_file_fails_validation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(DownloadError, match="bad.jpg"):
        fetch_parsed(bad.as_uri(), _image_size)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.org/a/b.zip", None),
        ("https://example.org/a/b.zip", None),
        ("file:///abs/dir/x.jpg", Path("/abs/dir/x.jpg")),
        ("file://localhost/abs/x.jpg", Path("/abs/x.jpg")),
        ("file:data/mirror/x.jpg", Path("data/mirror/x.jpg")),
        ("file:///with%20space/x.jpg", Path("/with space/x.jpg")),
    ],
)
def test_to_local_path(url: str, expected: Path | None) -> None:
    assert to_local_path(url) == expected


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("http://127.0.0.1:8000/mirror/", "http://127.0.0.1:8000/mirror/train2017/x.jpg"),
        ("http://127.0.0.1:8000/mirror", "http://127.0.0.1:8000/mirror/train2017/x.jpg"),
        ("http://127.0.0.1:8000/mirror//", "http://127.0.0.1:8000/mirror/train2017/x.jpg"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/train2017/x.jpg"),
        ("file:data/mirror/", "file:data/mirror/train2017/x.jpg"),
        ("file:///abs/", "file:///abs/train2017/x.jpg"),
        ("file:///", "file:///train2017/x.jpg"),
    ],
)
def test_rewrite_url(prefix: str, expected: str) -> None:
    assert rewrite_url("http://images.cocodataset.org/train2017/x.jpg", prefix) == expected


def test_rewrite_url_keeps_query() -> None:
    got = rewrite_url("https://host.example/a/b.zip?x=1", "http://127.0.0.1:9/m/")
    assert got == "http://127.0.0.1:9/m/a/b.zip?x=1"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    """Write a zip archive holding the given members."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_extract_members_flat(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"ann/instances.json": b"{}", "ann/other.json": b"[]"})
    out = extract_members(archive, ["ann/instances.json"], tmp_path / "out")
    assert out == [tmp_path / "out" / "instances.json"]
    assert out[0].read_bytes() == b"{}"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["instances.json"]


@pytest.mark.parametrize("bad", ["../evil", "ann/../../evil", "/abs/evil", "..\\evil", "C:/evil"])
def test_extract_members_refuses_unsafe_names(tmp_path: Path, bad: str) -> None:
    archive = _zip(tmp_path / "a.zip", {"good.txt": b"ok", bad: b"pwned"})
    with pytest.raises(ValueError, match="refusing"):
        extract_members(archive, ["good.txt", bad], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil").exists()


def test_extract_members_missing_member_names_archive(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"good.txt": b"ok"})
    with pytest.raises(ArchiveError, match=r"a\.zip.*absent\.txt"):
        extract_members(archive, ["absent.txt"], tmp_path / "out")


def _delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff sleeps of the downloads that follow, recorded instead of slept."""
    delays: list[float] = []
    monkeypatch.setattr(download, "_sleep", delays.append)
    return delays


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_waited_before_the_next_attempt(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    delays = _delays(monkeypatch)
    served.faults.fail_first["sub/blob.bin"] = 1
    served.faults.fail_status = status
    served.faults.fail_headers["Retry-After"] = "7"
    dest = fetch_file(served.url + "sub/blob.bin", tmp_path / "b", md5=BLOB_MD5, backoff=0.5)
    assert dest.read_bytes() == BLOB
    assert delays == [7.0] and served.faults.hits["sub/blob.bin"] == 2


def test_retry_after_as_a_date_and_never_less_than_the_backoff(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays = _delays(monkeypatch)
    served.faults.fail_first["sub/blob.bin"] = 2
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    served.faults.fail_headers["Retry-After"] = when
    fetch_file(served.url + "sub/blob.bin", tmp_path / "b", md5=BLOB_MD5, backoff=40)
    assert delays == [40.0, 80.0]  # the backoff is longer than the date asks
    served.faults.hits.clear()
    fetch_file(served.url + "sub/blob.bin", tmp_path / "c", md5=BLOB_MD5, backoff=0)
    assert 25 < delays[2] <= 30 and 25 < delays[3] <= 30


def test_an_unreadable_retry_after_falls_back_to_the_backoff(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays = _delays(monkeypatch)
    served.faults.fail_first["sub/blob.bin"] = 1
    served.faults.fail_headers["Retry-After"] = "soon"
    fetch_file(served.url + "sub/blob.bin", tmp_path / "b", md5=BLOB_MD5, backoff=0.25)
    assert delays == [0.25]


def test_a_retry_after_past_the_bound_fails_at_once_saying_when(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays = _delays(monkeypatch)
    served.faults.fail_first["sub/blob.bin"] = 1
    served.faults.fail_status = 429
    served.faults.fail_headers["Retry-After"] = "3600"
    url = served.url + "sub/blob.bin"
    with pytest.raises(DownloadError, match="retry after 3600 s") as err:
        fetch_file(url, tmp_path / "b", md5=BLOB_MD5)
    assert url in str(err.value) and f"{download.MAX_RETRY_AFTER:.0f} s" in str(err.value)
    assert delays == [] and served.faults.hits["sub/blob.bin"] == 1
