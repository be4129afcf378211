"""A local HTTP file server with Range support and fault injection, for download tests."""

import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

_CHUNK = 1 << 16
_GARBAGE = b"this is not the file you asked for\n"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass
class Faults:
    """Faults to inject, keyed by file path relative to the served root (no leading slash)."""

    cut_after: dict[str, int] = field(default_factory=dict)  # send N body bytes, drop (once)
    fail_first: dict[str, int] = field(default_factory=dict)  # fail_status for first N requests
    fail_status: int = 503
    fail_headers: dict[str, str] = field(default_factory=dict)  # sent with fail_status
    # Send the body at N bytes/s, for at most trickle_for seconds, then drop the connection.
    trickle: dict[str, float] = field(default_factory=dict)
    trickle_for: float = 10.0
    corrupt: set[str] = field(default_factory=set)  # serve same-length garbage
    ignore_range: set[str] = field(default_factory=set)  # answer 200 with the full body
    # Hold each request for the path until N requests for it arrived, at most together_for s.
    together: dict[str, int] = field(default_factory=dict)
    together_for: float = 1.0
    redirect: dict[str, str] = field(default_factory=dict)  # answer 302 to this Location
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)
    hits: Counter[str] = field(default_factory=Counter)  # requests per path
    _cut_done: set[str] = field(default_factory=set, init=False, repr=False)
    _lock: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)
    # Set when the server shuts down: ends every trickle at once.
    stopped: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def record(self, path: str, range_header: str | None) -> int:
        """Log a request and return how many requests for path have been seen, this included."""
        with self._lock:
            self.requests.append((path, range_header))
            self.hits[path] += 1
            self._lock.notify_all()
            return self.hits[path]

    def wait_together(self, path: str) -> None:
        """Hold a request until `together[path]` requests for path arrived or time runs out."""
        with self._lock:
            self._lock.wait_for(
                lambda: self.hits[path] >= self.together.get(path, 0), self.together_for
            )

    def cut_limit(self, path: str) -> int | None:
        """Return the byte budget for this response if path is to be cut now (once per path)."""
        with self._lock:
            if path not in self.cut_after or path in self._cut_done:
                return None
            self._cut_done.add(path)
            return self.cut_after[path]


class _Server(ThreadingHTTPServer):
    """A quiet threading HTTP server that knows its root and faults."""

    daemon_threads = True

    def __init__(self, root: Path, faults: Faults) -> None:
        """Bind to a free port on 127.0.0.1."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root.resolve()
        self.faults = faults

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay silent about client disconnects and other handler errors."""


class _Handler(BaseHTTPRequestHandler):
    """Serve files under the server root with single-range support and injected faults."""

    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30

    def do_GET(self) -> None:
        """Answer a GET request."""
        self._serve(body=True)

    def do_HEAD(self) -> None:
        """Answer a HEAD request."""
        self._serve(body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing."""

    def _serve(self, *, body: bool) -> None:
        """Serve one request, applying the configured faults."""
        faults = self.server.faults
        key = unquote(urlsplit(self.path).path).lstrip("/")
        count = faults.record(key, self.headers.get("Range"))
        faults.wait_together(key)
        if count <= faults.fail_first.get(key, 0):
            self._empty(faults.fail_status, faults.fail_headers)
            return
        if key in faults.redirect:
            self._empty(302, {"Location": faults.redirect[key]})
            return
        path = self._resolve(key)
        if path is None:
            self._empty(404)
            return
        size = path.stat().st_size
        header = None if key in faults.ignore_range else self.headers.get("Range")
        span = _parse_range(header, size)
        if span is not None and span[0] >= size:
            self._empty(416, {"Content-Range": f"bytes */{size}"})
            return
        start, end = (0, size - 1) if span is None else span
        self.send_response(200 if span is None else 206)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        if span is not None:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if body:
            self._send_body(key, path, start, end - start + 1)

    def _resolve(self, key: str) -> Path | None:
        """Return the file under root named by key, or None if missing or outside root."""
        path = (self.server.root / key).resolve()
        if not path.is_file() or not path.is_relative_to(self.server.root):
            return None
        return path

    def _empty(self, code: int, headers: dict[str, str] | None = None) -> None:
        """Send a response with an empty body."""
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_body(self, key: str, path: Path, start: int, length: int) -> None:
        """Send length bytes of path from start, cut short or garbled if so configured."""
        faults = self.server.faults
        limit = faults.cut_limit(key)
        to_send = length if limit is None else min(limit, length)
        try:
            with path.open("rb") as fh:
                fh.seek(start)
                if key in faults.trickle:
                    to_send = self._trickle(fh, to_send, faults.trickle[key])
                else:
                    self._copy(fh, to_send, garble=key in faults.corrupt)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if to_send < length:
            self.close_connection = True

    def _copy(self, fh: BinaryIO, count: int, *, garble: bool) -> None:
        """Write count bytes from fh (or as many garbage bytes) to the client."""
        while count > 0:
            chunk = fh.read(min(_CHUNK, count))
            if not chunk:
                return
            if garble:
                chunk = (_GARBAGE * (len(chunk) // len(_GARBAGE) + 1))[: len(chunk)]
            self.wfile.write(chunk)
            count -= len(chunk)

    def _trickle(self, fh: BinaryIO, count: int, rate: float) -> int:
        """Send one byte per 1/rate s until count bytes, trickle_for s or shutdown; return sent."""
        faults = self.server.faults
        ends = threading.Event()
        timer = threading.Timer(faults.trickle_for, ends.set)
        timer.start()
        sent = 0
        try:
            while sent < count and not ends.is_set() and not faults.stopped.wait(1 / rate):
                self.wfile.write(fh.read(1))
                self.wfile.flush()
                sent += 1
        finally:
            timer.cancel()
        return sent


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Parse one 'bytes=a-b', 'bytes=a-' or 'bytes=-n' range into (first, last) clipped to size.

    Returns None when there is no valid range (serve the whole file); first >= size means the
    range is unsatisfiable (416).
    """
    match = _RANGE.fullmatch((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:  # suffix range: the last n bytes
        return (max(size - int(last), 0) if int(last) else size), size - 1
    if last and int(last) < int(first):
        return None
    return int(first), min(int(last), size - 1) if last else size - 1


@contextmanager
def serve_directory(root: Path, faults: Faults | None = None) -> Iterator[str]:
    """Serve the files under root on 127.0.0.1 in a daemon thread; yield the base URL."""
    faults = faults if faults is not None else Faults()
    server = _Server(Path(root), faults)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="serve_directory",
        daemon=True,
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        faults.stopped.set()
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Served:
    """A served folder: its root on disk, the fault plan (and request log), and the base URL."""

    root: Path
    faults: Faults
    url: str


@contextmanager
def serve_files(root: Path, files: Mapping[str, bytes]) -> Iterator[Served]:
    """Write `files` (path relative to `root`: bytes) and serve `root` with an empty fault plan."""
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    faults = Faults()
    with serve_directory(root, faults) as url:
        yield Served(root, faults, url)


def free_port() -> int:
    """A 127.0.0.1 port with nothing listening on it (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def silent_server() -> Iterator[str]:
    """A 127.0.0.1 URL whose host accepts connections (backlog) but never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        yield f"http://127.0.0.1:{silent.getsockname()[1]}/"
