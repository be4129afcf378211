"""URLs: file: URLs as paths, and the one joiner of a base URL (a mirror) and a path under it."""

from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit


def to_local_path(url: str) -> Path | None:
    """Return the filesystem path of a file: URL (absolute or relative to cwd), else None."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"file: URL with a remote host is not supported: {url}")
    return Path(unquote(parts.path))


def join_url(base: str, name: str) -> str:
    """`name` under a base URL (http(s) or file:), with exactly one slash between them.

    A base that is only a scheme ("file:", relative to the working directory, or "file:///",
    the filesystem root) is kept as given.
    """
    head, rest = base.rstrip("/"), name.lstrip("/")
    if head.endswith(":"):
        return base + rest
    return f"{head}/{rest}"


def rewrite_url(url: str, prefix: str) -> str:
    """Replace the scheme and host of `url` by a mirror's `prefix`."""
    parts = urlsplit(url)
    return join_url(prefix, urlunsplit(("", "", parts.path, parts.query, parts.fragment)))
