"""Downloads with the standard library: retries, resume, a deadline per file, MD5 checks, and
checks of downloads that have no MD5."""

import email.utils
import http.client
import io
import logging
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import urljoin, urlsplit

from visionrepro import __version__
from visionrepro.errors import UserError
from visionrepro.fileio import file_digest, lock_file, locked
from visionrepro.data.transport.urls import to_local_path

T = TypeVar("T")

_LOG = logging.getLogger(__name__)
_HEADERS = {"User-Agent": f"visionrepro/{__version__} (urllib)"}
_CHUNK = 1 << 20
# Failed attempts without progress may use at most this many seconds in total, so that a host
# that never answers fails within a minute even with the default timeout, retries and backoff.
_FAILURE_BUDGET = 50.0
_MIN_TIMEOUT = 1.0
_PROGRESS_STEP = 0.05
_PROGRESS_INTERVAL = 2.0
_RETRY_STATUS = frozenset({408, 429})
# Statuses whose Retry-After header says how long to wait (RFC 9110 10.2.3), and the longest
# wait honoured: a server asking for more fails the download at once, saying when to retry.
_RETRY_AFTER_STATUS = frozenset({429, 503})
MAX_RETRY_AFTER = 120.0
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)")
MIN_RATE = 4000.0  # bytes/s; the schema's default of download.min_rate

DEMO_HINT = "or run the offline demo: snakemake --cores all --configfile configs/demo.yaml"

_sleep = time.sleep  # module-level so tests can replace the backoff sleep


class DownloadError(UserError, RuntimeError):
    """A download that failed for good; the message names the URL and the cause."""


class ContentError(DownloadError):
    """The source answered, with content that cannot be used: fetching it again (or from
    elsewhere) will not help until the content or the expectation changes."""


class ChecksumError(ContentError):
    """A whole download whose MD5 differs from the expected one; it is kept at `kept`."""

    def __init__(self, message: str, kept: Path, actual: str) -> None:
        super().__init__(message)
        self.kept, self.actual = kept, actual


class _Retry(Exception):
    """One attempt failed in a way that another attempt may fix."""


_TRANSIENT = (
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
    _Retry,
)


@dataclass(frozen=True)
class Transfer:
    """Where and how to fetch: a URL (or a mirror's prefix) and the `download:` settings.

    None of it changes what is fetched (MD5s and the subset's manifest decide that), so rules
    pass it as an object: Snakemake's params trigger skips objects, and a new timeout or a
    re-spelled mirror URL reruns nothing.
    """

    url: str = ""
    workers: int = 4
    retries: int = 4
    timeout: float = 15.0
    backoff: float = 1.0
    min_rate: float = MIN_RATE

    def options(self) -> dict[str, float]:
        """The keyword arguments of fetch_file and fetch_parsed: retries, timeout, backoff, rate."""
        return {k: v for k, v in asdict(self).items() if k not in ("url", "workers")}


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect to http(s) only, and logs one that leaves the host (or port) asked."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: BinaryIO,
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(urljoin(req.full_url, newurl))
        if new.scheme not in ("http", "https"):
            raise urllib.error.HTTPError(
                req.full_url, code, f"redirect to {newurl} refused (not http or https)", headers, fp
            )
        if new.netloc != old.netloc:
            _LOG.warning("%s: redirected (%d) to another host: %s", req.full_url, code, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# Every request goes through this opener (urlopen's, with the redirects checked).
_OPENER = urllib.request.build_opener(_CheckedRedirects)


def fetch_file(
    url: str,
    dest: Path,
    *,
    md5: str = "",
    verify: Callable[[Path], object] | None = None,
    retries: int = 4,
    timeout: float = 15.0,
    backoff: float = 1.0,
    min_rate: float = MIN_RATE,
    log: logging.Logger | None = None,
) -> Path:
    """Download url to dest resumably (dest.part + Range), with retries and an MD5 check.

    Without an MD5, `verify(path)` (raising ValueError or OSError) decides whether a download,
    or an existing dest, is usable: an unusable one is removed and fetched again. A download
    whose MD5 differs is kept aside as `mismatch_path(dest)` (ChecksumError says so); once the
    MD5 is set to its value, the next call adopts it instead of downloading again. Two
    processes fetching the same dest (two projects sharing a data folder) take turns: the
    second waits for the first, then finds dest done.
    """
    log = log or _LOG
    dest = Path(dest)
    with locked(lock_file(dest)):
        if _usable(dest, md5, verify, log) or _adopt_mismatch(dest, md5, log):
            return dest
        _download(url, dest, md5, verify, retries, timeout, backoff, min_rate, log)
    return dest


def mismatch_path(dest: Path) -> Path:
    """Where a download whose MD5 differs from the expected one is kept: `<dest>.md5-mismatch`."""
    return dest.with_name(dest.name + ".md5-mismatch")


def _adopt_mismatch(dest: Path, md5: str, log: logging.Logger) -> bool:
    """Rename a kept-aside download to dest if it has the (newly configured) MD5."""
    aside = mismatch_path(dest)
    if not md5 or not aside.is_file() or file_digest(aside) != md5.lower():
        return False
    aside.replace(dest)
    log.info("%s has the configured MD5 %s; using it as %s", aside, md5, dest)
    return True


def _download(
    url: str,
    dest: Path,
    md5: str,
    verify: Callable[[Path], object] | None,
    retries: int,
    timeout: float,
    backoff: float,
    min_rate: float,
    log: logging.Logger,
) -> None:
    """Fetch url to dest through dest.part (the caller holds dest's lock)."""
    part = dest.with_name(dest.name + ".part")
    local = to_local_path(url)

    def attempt(attempt_timeout: float) -> None:
        if local is not None:
            _copy_local(url, local, part)
        else:
            _attempt(url, part, attempt_timeout, min_rate, log)
        _check_md5(url, part, md5, dest)
        part.replace(dest)
        _verify(dest, None if md5 else verify)

    if local is None:
        log.info("%s: downloading to %s", url, dest)
    attempts = 1 if local is not None else retries
    _retry(url, attempt, retries=attempts, timeout=timeout, backoff=backoff, log=log, part=part)


def fetch_parsed(
    url: str,
    parse: Callable[[bytes], T],
    *,
    retries: int = 4,
    timeout: float = 15.0,
    backoff: float = 1.0,
    min_rate: float = MIN_RATE,
) -> T:
    """Fetch a small resource into memory with retries and return parse(its bytes).

    A parse that raises ValueError or OSError (a truncated or garbled body) means retry; any
    other error of parse ends the fetch at once.
    """
    local = to_local_path(url)

    def attempt(attempt_timeout: float) -> T:
        if local is not None:
            data = _read_local(url, local)
        else:
            data = _read_http(url, attempt_timeout, min_rate)
        return _parse(data, parse)

    attempts = 1 if local is not None else retries
    return _retry(url, attempt, retries=attempts, timeout=timeout, backoff=backoff, log=_LOG)


def _retry(
    url: str,
    attempt: Callable[[float], T],
    *,
    retries: int,
    timeout: float,
    backoff: float,
    log: logging.Logger,
    part: Path | None = None,
) -> T:
    """Call attempt(timeout) up to `retries` times, sleeping backoff*2**i after failure i.

    Attempts that make no progress (bytes added to `part`) share one time budget.
    """
    retries = max(retries, 1)
    deadline = time.monotonic() + _FAILURE_BUDGET
    cause: BaseException | None = None
    for i in range(retries):
        before = _size(part)
        try:
            return attempt(max(_MIN_TIMEOUT, min(timeout, deadline - time.monotonic())))
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code < 500 and exc.code not in _RETRY_STATUS:
                raise DownloadError(f"{url}: {_describe(exc)}") from exc
            cause = exc
        except _TRANSIENT as exc:
            cause = exc
        asked = _retry_after(url, cause)
        if _size(part) > before:
            deadline = time.monotonic() + _FAILURE_BUDGET
        if i + 1 < retries:
            delay = backoff * 2**i if asked is None else max(asked, backoff * 2**i)
            log.warning(
                "%s: attempt %d/%d failed (%s); retrying in %g s%s",
                url,
                i + 1,
                retries,
                _describe(cause),
                delay,
                "" if asked is None else " (the server's Retry-After)",
            )
            _sleep(delay)
            deadline += delay if asked is not None else 0.0  # a wait asked for is not a failure
    raise DownloadError(
        f"{url}: failed after {retries} attempt(s); last error: {_describe(cause)}"
    ) from cause


def _retry_after(url: str, exc: BaseException | None) -> float | None:
    """The seconds a 429 or 503 answer's Retry-After asks to wait (seconds or an HTTP date), or
    None without one; a DownloadError when it asks for more than MAX_RETRY_AFTER."""
    if not isinstance(exc, urllib.error.HTTPError) or exc.code not in _RETRY_AFTER_STATUS:
        return None
    value = (exc.headers.get("Retry-After") or "").strip() if exc.headers else ""
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None  # absent or unreadable: the usual backoff
        seconds = max(when.timestamp() - time.time(), 0.0)
    if seconds > MAX_RETRY_AFTER:
        raise DownloadError(
            f"{url}: {_describe(exc)}; the server asks to retry after {seconds:.0f} s, more "
            f"than the {MAX_RETRY_AFTER:.0f} s a download waits: rerun the workflow later"
        ) from exc
    return seconds


def _describe(exc: BaseException | None) -> str:
    """Return a short human-readable cause for a failed attempt."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, BaseException) and not isinstance(reason, _Retry):
        return f"{type(reason).__name__}: {reason}"
    return str(reason)


def _usable(
    dest: Path, md5: str, verify: Callable[[Path], object] | None, log: logging.Logger
) -> bool:
    """True if dest exists and passes its MD5 (or, without one, `verify`); else remove it."""
    if not dest.exists():
        return False
    if md5:
        actual = file_digest(dest)
        if actual == md5.lower():
            return True
        log.warning("%s has MD5 %s, expected %s; downloading it again", dest, actual, md5)
    else:
        try:
            _verify(dest, verify)
            return True
        except _Retry as exc:
            log.warning("%s; downloading it again", exc)
    dest.unlink(missing_ok=True)
    return False


def _verify(path: Path, verify: Callable[[Path], object] | None) -> None:
    """Run verify(path); if it fails, remove path and raise _Retry naming it."""
    if verify is None:
        return
    try:
        verify(path)
    except (ValueError, OSError) as exc:
        path.unlink(missing_ok=True)
        raise _Retry(f"{path} is not usable, removed it ({exc})") from exc


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


def _read_http(url: str, timeout: float, min_rate: float) -> bytes:
    """Fetch url into memory in one request, within its deadline."""
    pace = _Pace(timeout, min_rate)
    request = urllib.request.Request(url, headers=_HEADERS)
    with _OPENER.open(request, timeout=timeout) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length else None
        out = io.BytesIO()
        done = _copy_body(resp, out, 0, total, pace, None)
    if total is not None and done < total:
        raise _Retry(f"connection closed after {done} of {total} bytes")
    return out.getvalue()


def _parse(data: bytes, parse: Callable[[bytes], T]) -> T:
    """parse(data), a ValueError/OSError of it turned into a retryable failure."""
    try:
        return parse(data)
    except (ValueError, OSError) as exc:
        raise _Retry(f"invalid content ({type(exc).__name__}: {exc})") from exc


def _attempt(url: str, part: Path, timeout: float, min_rate: float, log: logging.Logger) -> None:
    """Make one request for url, appending to part (206) or restarting it (200)."""
    have = _size(part)
    headers = dict(_HEADERS)
    if have:
        headers["Range"] = f"bytes={have}-"
        log.info("%s: resuming at %d bytes", url, have)
    pace = _Pace(timeout, min_rate)
    request = urllib.request.Request(url, headers=headers)
    try:
        resp = _OPENER.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not have:
            raise
        exc.close()
        _accept_complete_part(url, part, have, exc.headers.get("Content-Range"), log)
        return
    with resp:
        _receive(url, resp, part, have, pace, log)


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
    url: str,
    resp: http.client.HTTPResponse,
    part: Path,
    have: int,
    pace: "_Pace",
    log: logging.Logger,
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
        done = _copy_body(resp, out, start, total, pace, _Progress(url, start, total, log))
    if total is not None and done < total:
        raise _Retry(f"connection closed after {done} of {total} bytes")


def _copy_body(
    resp: http.client.HTTPResponse,
    out: BinaryIO,
    start: int,
    total: int | None,
    pace: "_Pace",
    progress: "_Progress | None",
) -> int:
    """Copy resp to out within the pace's deadline; return the byte offset reached."""
    pace.expect(None if total is None else total - start)
    done = start
    while chunk := resp.read1(_CHUNK):
        out.write(chunk)
        done += len(chunk)
        pace.check(done - start)
        if progress:
            progress.update(done)
    if progress:
        progress.report(done)
    return done


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """Parse a Content-Range header into (first byte, total size); unknown parts are None."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None, None
    first, total = match.groups()
    return (int(first) if first else None), (None if total == "*" else int(total))


def _check_md5(url: str, path: Path, md5: str, dest: Path) -> None:
    """Raise ChecksumError if path's MD5 differs from a non-empty md5, keeping path aside as
    mismatch_path(dest) (a large download need not be fetched again once the MD5 is settled)."""
    if not md5:
        return
    actual = file_digest(path)
    if actual != md5.lower():
        kept = mismatch_path(dest)
        path.replace(kept)
        raise ChecksumError(
            f"{url}: MD5 mismatch (expected {md5}, got {actual}); the download is corrupt or "
            f"the configured MD5 is wrong. Kept it as {kept}: with the MD5 set to {actual}, "
            "the next run uses it without downloading again; otherwise delete it",
            kept,
            actual,
        )


def _size(path: Path | None) -> int:
    """Return the size of path, or 0 if it does not exist (or is None)."""
    try:
        return path.stat().st_size if path else 0
    except FileNotFoundError:
        return 0


class _Pace:
    """One request's deadline: `timeout` seconds plus its bytes at `min_rate` bytes/s.

    With a known size the deadline is fixed when the headers arrive; without one it grows with
    the bytes received, so a transfer slower than min_rate still runs out of time.
    """

    def __init__(self, timeout: float, min_rate: float) -> None:
        """Start the clock (before the request is sent)."""
        self.began = time.monotonic()
        self.timeout, self.min_rate = timeout, min_rate
        self.expected = 0

    def expect(self, size: int | None) -> None:
        """Set the number of bytes this request should bring (None: unknown)."""
        self.expected = size or 0

    def check(self, received: int) -> None:
        """Raise _Retry if the request has run past its deadline."""
        allowed = self.timeout + max(self.expected, received) / self.min_rate
        elapsed = time.monotonic() - self.began
        if elapsed > allowed:
            raise _Retry(
                f"too slow: {received} of {self.expected or '?'} bytes in {elapsed:.1f} s, past "
                f"the deadline of {allowed:.1f} s (timeout {self.timeout:g} s + size at "
                f"download.min_rate {self.min_rate:g} bytes/s)"
            )


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
