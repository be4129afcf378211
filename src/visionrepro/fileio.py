"""Atomic file writing, locks on shared files, file digests (MD5 and SHA-256) and small JSON
helpers."""

import errno
import fcntl
import hashlib
import json
import logging
import os
import stat
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from visionrepro.errors import UserError

_LOG = logging.getLogger(__name__)

_DIGEST_CHUNK = 1 << 22
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(UserError, OSError):
    """No space left (or the quota reached) while writing a file; names the file."""


def disk_full_cause(err: BaseException) -> OSError | None:
    """The "no space left" (or quota) OSError behind `err`, if any: `err` itself or one it was
    raised while handling (torch.save reports a failed write as "enforce fail ... unexpected
    pos", raised while the OSError is handled)."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, OSError) and err.errno in _DISK_FULL:
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


@contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; rename it to `dest` only if the block succeeds.

    A full disk while the block writes is a DiskFullError naming `dest` (a write error names
    no file), also where the writer's own error hides it (torch.save's "unexpected pos").
    torch.save should write to an open file (to a path it never sees the OSError).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, dest)
    except Exception as err:
        full = disk_full_cause(err)
        if full is None:
            raise
        raise DiskFullError(
            full.errno, f"{full.strerror} while writing it; free some space and rerun", str(dest)
        ) from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def locked(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (created, and kept, if missing) for the block.

    Another process, or thread, that asks for the same lock waits until the block ends, so two
    runs sharing a data folder do not build the same file at once. The lock file is never
    removed: removing it would let a third run lock a new file while the second holds the old.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def lock_file(dest: str | os.PathLike) -> Path:
    """The lock file of a shared file or folder `dest`: `.<name>.lock` beside it."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}.lock")


def write_json(dest: str | os.PathLike, data: Any) -> None:
    """Write `data` as indented JSON, atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


class UnreadableJson(UserError, ValueError):
    """A JSON file that does not parse (truncated, or not JSON)."""


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; one that does not parse is an error naming it and the fix."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise UnreadableJson(
            f"{path} is not readable JSON ({reason}; truncated?); the workflow sets such a run "
            f"file aside and writes it again on its next run, or rerun the job that wrote it: "
            f"`snakemake --cores all --forcerun {path}`"
        ) from None


UNREADABLE_SUFFIX = ".unreadable"


def set_aside_unreadable_json(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Rename each of `paths` that is a regular file but does not parse to `<path>.unreadable`
    (kept to look at), so that Snakemake, seeing the output gone, reruns the job that wrote it
    instead of every job reading it failing (and its outputs being removed) run after run."""
    moved = []
    for path in map(Path, paths):
        if not path.is_file() or not stat.S_ISREG(path.lstat().st_mode):
            continue  # only a regular file is read (a FIFO would block the parse)
        try:
            read_json(path)
        except FileNotFoundError:
            continue
        except UnreadableJson:
            aside = path.with_name(path.name + UNREADABLE_SUFFIX)
            try:
                os.replace(path, aside)
            except FileNotFoundError:  # another run moved it first
                continue
            moved.append(aside)
            _LOG.warning(
                "%s does not parse (truncated?): set aside as %s; the job that wrote it runs again",
                path,
                aside,
            )
    return moved


def stream_digest(source: BinaryIO, sink: BinaryIO | None = None, algorithm: str = "md5") -> str:
    """The hex digest of everything read from `source`, copied to `sink` on the way if given."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    while block := source.read(_DIGEST_CHUNK):
        digest.update(block)
        if sink is not None:
            sink.write(block)
    return digest.hexdigest()


def file_digest(path: str | os.PathLike, algorithm: str = "md5") -> str:
    """The hex digest (MD5 by default) of a file's content."""
    with Path(path).open("rb") as fh:
        return stream_digest(fh, algorithm=algorithm)
