"""URLs: file: URLs as paths, and the one joiner of a base URL (a mirror) and a path under it,
which keeps the path inside the mirror."""

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from visionrepro.errors import UserError


class OutsideMirror(UserError, ValueError):
    """A path that would leave the mirror (or local copy) it is joined to."""


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
    the filesystem root) is kept as given. A `..` segment in `name` (percent-encoded or not,
    between slashes or backslashes) is refused: the result stays inside the base.
    """
    head, rest = base.rstrip("/"), name.lstrip("/")
    if ".." in re.split(r"[/\\]", unquote(urlsplit(rest).path)):
        raise OutsideMirror(f"{name!r} has a '..' segment, which would leave {base}")
    if head.endswith(":"):
        return base + rest
    return f"{head}/{rest}"


def rewrite_url(url: str, prefix: str) -> str:
    """Replace the scheme and host of `url` by a mirror's `prefix` (inside it: OutsideMirror)."""
    parts = urlsplit(url)
    try:
        return join_url(prefix, urlunsplit(("", "", parts.path, parts.query, parts.fragment)))
    except OutsideMirror as err:
        raise OutsideMirror(f"{url}: {err}") from None


def check_local_inside(url: str, base: str) -> None:
    """A file: URL under a file: mirror must stay inside it once links are resolved: an image
    in the mirror that is a link to a file outside it is refused (OutsideMirror), naming it."""
    local, root = to_local_path(url), to_local_path(base)
    if local is None or root is None:
        return
    target = local.resolve()
    if not target.is_relative_to(root.resolve()):
        raise OutsideMirror(
            f"{local} is a link to {target}, outside the mirror {root}; copy the file into "
            "the mirror or remove the link"
        )
