"""Robust downloads with the standard library: retries, resume, MD5 checks, safe zip extraction."""

import hashlib
import http.client
import logging
import re
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from visionrepro import __version__
from visionrepro.errors import UserError
from visionrepro.fileio import atomic_path

T = TypeVar("T")

_LOG = logging.getLogger(__name__)
_HEADERS = {"User-Agent": f"visionrepro/{__version__} (urllib)"}
_CHUNK = 1 << 20
_MD5_CHUNK = 1 << 22
# Failed attempts without progress may use at most this many seconds in total, so that a host
# that never answers fails within a minute even with the default timeout, retries and backoff.
_FAILURE_BUDGET = 50.0
_MIN_TIMEOUT = 1.0
_PROGRESS_STEP = 0.05
_PROGRESS_INTERVAL = 2.0
_RETRY_STATUS = frozenset({408, 429})
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)")

_sleep = time.sleep  # module-level so tests can replace the backoff sleep


class DownloadError(UserError, RuntimeError):
    """A download that failed for good; the message names the URL and the cause."""


class _Retry(Exception):
    """One attempt failed in a way that another attempt may fix."""


_TRANSIENT = (
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
    _Retry,
)


def to_local_path(url: str) -> Path | None:
    """Return the filesystem path of a file: URL (absolute or relative to cwd), else None."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"file: URL with a remote host is not supported: {url}")
    return Path(unquote(parts.path))


def rewrite_url(url: str, prefix: str) -> str:
    """Replace the scheme and host of `url` by `prefix`, with exactly one slash between them."""
    parts = urlsplit(url)
    rest = urlunsplit(("", "", parts.path, parts.query, parts.fragment)).lstrip("/")
    head = prefix.rstrip("/")
    if head.endswith(":"):  # "file:" (relative) or "file:///" (filesystem root) as given
        return prefix + rest
    return f"{head}/{rest}"


def fetch_file(
    url: str,
    dest: Path,
    *,
    md5: str = "",
    retries: int = 4,
    timeout: float = 15.0,
    backoff: float = 1.0,
    log: logging.Logger | None = None,
) -> Path:
    """Download url to dest resumably (dest.part + Range), with retries and an MD5 check."""
    log = log or _LOG
    dest = Path(dest)
    if _already_done(dest, md5, log):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    local = to_local_path(url)
    if local is not None:
        _copy_local(url, local, part)
    else:
        log.info("%s: downloading to %s", url, dest)
        _retry(
            url,
            lambda t: _attempt(url, part, t, log),
            retries=retries,
            timeout=timeout,
            backoff=backoff,
            log=log,
            progress=lambda: _size(part),
        )
    _check_md5(url, part, md5)
    part.replace(dest)
    return dest


def fetch_bytes(
    url: str,
    *,
    retries: int = 4,
    timeout: float = 15.0,
    backoff: float = 1.0,
    validate: Callable[[bytes], object] | None = None,
) -> bytes:
    """Fetch a small resource into memory with retries; a failing `validate` means retry."""
    local = to_local_path(url)

    def attempt(attempt_timeout: float) -> bytes:
        data = _read_local(url, local) if local is not None else _read_http(url, attempt_timeout)
        _validate(data, validate)
        return data

    attempts = 1 if local is not None else retries
    return _retry(url, attempt, retries=attempts, timeout=timeout, backoff=backoff, log=_LOG)


def extract_members(archive: Path, members: Sequence[str], dest_dir: Path) -> list[Path]:
    """Extract the named zip members flat into dest_dir, atomically, refusing unsafe names."""
    for name in members:
        _check_member_name(archive, name)
    with zipfile.ZipFile(archive) as zf:
        infos = [_member_info(zf, archive, name) for name in members]
        dest_dir.mkdir(parents=True, exist_ok=True)
        return [_extract_one(zf, info, dest_dir) for info in infos]


def _retry(
    url: str,
    attempt: Callable[[float], T],
    *,
    retries: int,
    timeout: float,
    backoff: float,
    log: logging.Logger,
    progress: Callable[[], int] = lambda: 0,
) -> T:
    """Call attempt(timeout) up to `retries` times, sleeping backoff*2**i after failure i."""
    retries = max(retries, 1)
    deadline = time.monotonic() + _FAILURE_BUDGET
    cause: BaseException | None = None
    for i in range(retries):
        before = progress()
        try:
            return attempt(max(_MIN_TIMEOUT, min(timeout, deadline - time.monotonic())))
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code < 500 and exc.code not in _RETRY_STATUS:
                raise DownloadError(f"{url}: {_describe(exc)}") from exc
            cause = exc
        except _TRANSIENT as exc:
            cause = exc
        if progress() > before:
            deadline = time.monotonic() + _FAILURE_BUDGET
        if i + 1 < retries:
            delay = backoff * 2**i
            log.warning(
                "%s: attempt %d/%d failed (%s); retrying in %g s",
                url,
                i + 1,
                retries,
                _describe(cause),
                delay,
            )
            _sleep(delay)
    raise DownloadError(
        f"{url}: failed after {retries} attempt(s); last error: {_describe(cause)}"
    ) from cause


def _describe(exc: BaseException | None) -> str:
    """Return a short human-readable cause for a failed attempt."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}"
    return str(reason)


def _already_done(dest: Path, md5: str, log: logging.Logger) -> bool:
    """Return True if dest exists and matches md5; delete it if it exists but does not."""
    if not dest.exists():
        return False
    if not md5:
        return True
    actual = _md5(dest)
    if actual == md5.lower():
        return True
    log.warning("%s has MD5 %s, expected %s; downloading it again", dest, actual, md5)
    dest.unlink()
    return False


def _copy_local(url: str, local: Path, part: Path) -> None:
    """Copy a local file (from a file: URL) to part."""
    if not local.is_file():
        raise DownloadError(f"{url}: local file {local} does not exist")
    shutil.copyfile(local, part)


def _read_local(url: str, local: Path) -> bytes:
    """Read a local file (from a file: URL)."""
    if not local.is_file():
        raise DownloadError(f"{url}: local file {local} does not exist")
    return local.read_bytes()


def _read_http(url: str, timeout: float) -> bytes:
    """Fetch url into memory in one request."""
    request = urllib.request.Request(url, headers=_HEADERS)
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        return resp.read()


def _validate(data: bytes, validate: Callable[[bytes], object] | None) -> None:
    """Run the caller's check on data, turning ValueError/OSError into a retryable failure."""
    if validate is None:
        return
    try:
        validate(data)
    except (ValueError, OSError) as exc:
        raise _Retry(f"invalid content ({type(exc).__name__}: {exc})") from exc


def _attempt(url: str, part: Path, timeout: float, log: logging.Logger) -> None:
    """Make one request for url, appending to part (206) or restarting it (200)."""
    have = _size(part)
    headers = dict(_HEADERS)
    if have:
        headers["Range"] = f"bytes={have}-"
        log.info("%s: resuming at %d bytes", url, have)
    request = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not have:
            raise
        exc.close()
        _accept_complete_part(url, part, have, exc.headers.get("Content-Range"), log)
        return
    with resp:
        _receive(url, resp, part, have, log)


def _accept_complete_part(
    url: str, part: Path, have: int, content_range: str | None, log: logging.Logger
) -> None:
    """Handle 416 for a resume: keep part if it is the whole file, else start over."""
    _, total = _content_range(content_range)
    if total is not None and total != have:
        part.unlink()
        raise _Retry(f"partial file has {have} bytes but the file has {total}; starting over")
    log.info("%s: partial download is already complete (%d bytes)", url, have)


def _receive(
    url: str, resp: http.client.HTTPResponse, part: Path, have: int, log: logging.Logger
) -> None:
    """Write the response body to part, raising _Retry if the connection ends early."""
    if resp.status == 206:
        start, total = _content_range(resp.headers.get("Content-Range"))
        if start != have:
            part.unlink()
            raise _Retry(f"server resumed at byte {start} instead of {have}; starting over")
        mode = "ab"
    else:
        if have:
            log.info("%s: server ignored the range request; starting over", url)
        length = resp.headers.get("Content-Length")
        start, total, mode = 0, int(length) if length else None, "wb"
    with part.open(mode) as out:
        done = _copy_body(url, resp, out, start, total, log)
    if total is not None and done < total:
        raise _Retry(f"connection closed after {done} of {total} bytes")


def _copy_body(
    url: str,
    resp: http.client.HTTPResponse,
    out: BinaryIO,
    start: int,
    total: int | None,
    log: logging.Logger,
) -> int:
    """Copy resp to out with progress logging; return the byte offset reached."""
    progress = _Progress(url, start, total, log)
    done = start
    while chunk := resp.read(_CHUNK):
        out.write(chunk)
        done += len(chunk)
        progress.update(done)
    progress.report(done)
    return done


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """Parse a Content-Range header into (first byte, total size); unknown parts are None."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None, None
    first, total = match.groups()
    return (int(first) if first else None), (None if total == "*" else int(total))


def _check_md5(url: str, path: Path, md5: str) -> None:
    """Delete path and raise DownloadError if its MD5 differs from a non-empty md5."""
    if not md5:
        return
    actual = _md5(path)
    if actual != md5.lower():
        path.unlink()
        raise DownloadError(
            f"{url}: MD5 mismatch (expected {md5}, got {actual}); "
            "the download is corrupt or the configured md5 is wrong"
        )


def _md5(path: Path) -> str:
    """Return the hex MD5 of a file."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while block := fh.read(_MD5_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _size(path: Path) -> int:
    """Return the size of path, or 0 if it does not exist."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class _Progress:
    """Progress lines for one transfer: at most one per 5 % of the total and per 2 seconds."""

    def __init__(self, url: str, start: int, total: int | None, log: logging.Logger) -> None:
        """Start timing a transfer that begins at byte `start`."""
        self.url, self.start, self.total, self.log = url, start, total, log
        self.began = self.last_time = time.monotonic()
        self.last_done = start

    def update(self, done: int) -> None:
        """Log a line if enough time and bytes have passed since the last one."""
        now = time.monotonic()
        step = self.total * _PROGRESS_STEP if self.total else 0
        if now - self.last_time >= _PROGRESS_INTERVAL and done - self.last_done >= step:
            self.last_time, self.last_done = now, done
            self.report(done)

    def report(self, done: int) -> None:
        """Log bytes done / total and the transfer rate."""
        elapsed = max(time.monotonic() - self.began, 1e-6)
        rate = (done - self.start) / elapsed / 1e6
        if self.total:
            amount = f"{done}/{self.total} bytes ({100 * done / self.total:.0f} %)"
        else:
            amount = f"{done} bytes"
        self.log.info("%s: %s, %.2f MB/s", self.url, amount, rate)


def _check_member_name(archive: Path, name: str) -> None:
    """Raise ValueError for an absolute member name or one with a '..' component."""
    windows = PureWindowsPath(name)  # splits on both '/' and '\\'
    if PurePosixPath(name).is_absolute() or windows.drive or windows.root:
        raise ValueError(f"{archive}: refusing absolute member name {name!r}")
    if ".." in windows.parts:
        raise ValueError(f"{archive}: refusing member name with '..' (path traversal): {name!r}")


def _member_info(zf: zipfile.ZipFile, archive: Path, name: str) -> zipfile.ZipInfo:
    """Return the ZipInfo of a file member, with errors that name the archive."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise KeyError(f"{archive} has no member {name!r}") from None
    if info.is_dir():
        raise ValueError(f"{archive}: member {name!r} is a directory, not a file")
    return info


def _extract_one(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest_dir: Path) -> Path:
    """Extract one member to dest_dir/<basename> via a temporary file and rename."""
    target = dest_dir / PureWindowsPath(info.filename).name
    with atomic_path(target) as tmp, zf.open(info) as src, tmp.open("wb") as out:
        shutil.copyfileobj(src, out)
    return target
