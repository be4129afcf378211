"""A mirror read only inside itself (issue 23, point 3): a `coco_url` with `..` segments must not
read a local file outside a `file:` mirror (or a local copy) into the image cache, joined URLs
stay under their base, and a redirect to another host is logged, to a non-HTTP scheme refused.
"""

import io
import logging
from pathlib import Path

import pandas as pd
import pytest
from http_fixtures import Faults, serve_directory
from PIL import Image

from visionrepro.data.coco import obtain_images
from visionrepro.data.transport.fetch import DownloadError, fetch_parsed
from visionrepro.data.transport.urls import OutsideMirror, join_url, rewrite_url

FAST = {"retries": 1, "timeout": 2.0, "backoff": 0.0}
ESCAPES = [
    "../secret.png",
    "train2017/../../secret.png",
    "%2e%2e/secret.png",
    "..%2fsecret.png",
    "..%5Csecret.png",
    "a/..",
]


@pytest.mark.parametrize("name", ESCAPES)
@pytest.mark.parametrize("base", ["file:///srv/mirror/", "file:mirror", "http://127.0.0.1:9/m/"])
def test_a_joined_path_may_not_leave_its_base(base: str, name: str) -> None:
    with pytest.raises(OutsideMirror, match=r"has a '\.\.' segment, which would leave"):
        join_url(base, name)


@pytest.mark.parametrize(
    "name", ["train2017/x.jpg", "a..b/x.jpg", "x..jpg", ".hidden/x", "%2e/x.jpg", "a/./b"]
)
def test_names_with_dots_that_stay_inside_are_joined(name: str) -> None:
    assert join_url("file:///srv/mirror/", name) == f"file:///srv/mirror/{name}"


def test_rewriting_a_coco_url_that_climbs_names_the_url() -> None:
    url = "http://images.cocodataset.org/train2017/../../../etc/passwd"
    with pytest.raises(OutsideMirror, match=r"^http://images\.cocodataset\.org/train2017/\.\./"):
        rewrite_url(url, "file:///srv/mirror/")


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("mirror_url", ["file", "http"])
def test_a_coco_url_with_dot_dot_reads_nothing_outside_the_mirror(
    tmp_path: Path, mirror_url: str
) -> None:
    """The secret is a valid image of the annotated size beside the mirror: before the fix it
    was read into the cache (and so into the pack and the sample figure)."""
    mirror = tmp_path / "mirror"
    (mirror / "train2017").mkdir(parents=True)
    (mirror / "train2017" / "ok.png").write_bytes(_png(32, 24))
    (tmp_path / "secret.png").write_bytes(_png(32, 24))
    rows = [
        ("ok.png", "http://images.cocodataset.org/train2017/ok.png"),
        ("evil.png", "http://images.cocodataset.org/train2017/../../secret.png"),
    ]
    manifest = pd.DataFrame(
        [
            {
                "annotation_set": "train2017",
                "file_name": f,
                "coco_url": u,
                "width": 32,
                "height": 24,
            }
            for f, u in rows
        ]
    )
    cache = tmp_path / "cache"
    faults = Faults()
    with serve_directory(tmp_path, faults) as root_url:  # serves the mirror's parent too
        base = mirror.as_uri() + "/" if mirror_url == "file" else root_url + "mirror/"
        with pytest.raises(OutsideMirror) as err:
            obtain_images(manifest, base, cache, size=16, workers=2, **FAST)
    message = str(err.value)
    assert message.startswith("image train2017/evil.png: coco_url http://images.cocodataset")
    assert f"which would leave {base}" in message and "not COCO's own" in message
    assert not cache.exists() or not any(cache.rglob("*.png"))  # nothing fetched, not even ok
    assert faults.requests == []


def test_a_redirect_to_another_host_is_followed_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.bin").write_bytes(b"from b")
    faults = Faults()
    with serve_directory(tmp_path / "b") as other, serve_directory(tmp_path / "a", faults) as url:
        faults.redirect["x.bin"] = other + "x.bin"
        with caplog.at_level(logging.WARNING, logger="visionrepro.data.transport.fetch"):
            assert fetch_parsed(url + "x.bin", bytes, **FAST) == b"from b"
    assert f"{url}x.bin: redirected (302) to another host: {other}x.bin" in caplog.text


def test_a_redirect_on_the_same_host_is_quiet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "y.bin").write_bytes(b"same host")
    faults = Faults()
    with serve_directory(tmp_path, faults) as url:
        faults.redirect["x.bin"] = "/y.bin"
        with caplog.at_level(logging.WARNING, logger="visionrepro.data.transport.fetch"):
            assert fetch_parsed(url + "x.bin", bytes, **FAST) == b"same host"
    assert "redirected" not in caplog.text


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("ftp://127.0.0.1:9/x.bin", "redirect to ftp://127.0.0.1:9/x.bin refused (not http"),
        ("file:///etc/hostname", "Redirection to url 'file:///etc/hostname' is not allowed"),
    ],
)
def test_a_redirect_to_another_scheme_is_refused(tmp_path: Path, target: str, message: str) -> None:
    """urllib itself refuses file:, and we refuse ftp: (which urllib would follow)."""
    faults = Faults()
    with serve_directory(tmp_path, faults) as url:
        faults.redirect["x.bin"] = target
        with pytest.raises(DownloadError) as err:
            fetch_parsed(url + "x.bin", bytes, **FAST)
    assert message in str(err.value)


@pytest.mark.parametrize("link", ["image", "folder"])
def test_an_image_linked_to_a_file_outside_the_file_mirror_is_refused(
    tmp_path: Path, link: str
) -> None:
    """An image of the mirror (or its folder) that is a symlink to a file outside it is not
    read into the cache (issue 33, point 4); the error names the path."""
    mirror = tmp_path / "mirror"
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "evil.png").write_bytes(_png(32, 24))
    if link == "image":
        (mirror / "train2017").mkdir(parents=True)
        (mirror / "train2017" / "evil.png").symlink_to(tmp_path / "outside" / "evil.png")
    else:
        mirror.mkdir()
        (mirror / "train2017").symlink_to(tmp_path / "outside")
    row = {
        "annotation_set": "train2017",
        "file_name": "evil.png",
        "coco_url": "http://images.cocodataset.org/train2017/evil.png",
        "width": 32,
        "height": 24,
    }
    cache = tmp_path / "cache"
    with pytest.raises(OutsideMirror) as err:
        obtain_images(pd.DataFrame([row]), mirror.as_uri() + "/", cache, size=16, **FAST)
    assert f"{mirror}/train2017/evil.png is a link to {tmp_path}/outside/evil.png" in str(err.value)
    assert "outside the mirror" in str(err.value)
    assert not cache.exists() or not any(cache.rglob("*.png"))
