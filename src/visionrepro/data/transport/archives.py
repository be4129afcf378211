"""Archives: safe extraction of zip and tar files, and checks that a download is a whole archive."""

import gzip
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from visionrepro.errors import UserError
from visionrepro.fileio import atomic_path

_CHUNK = 1 << 22
# What a damaged archive raises while it is opened or read (gzip: EOFError when truncated).
_DAMAGED = (zipfile.BadZipFile, tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError)


class ArchiveError(UserError, ValueError):
    """An archive that is damaged, lacks a member, or holds an unsafe one; names the archive."""


def check_member_name(archive: Path, name: str) -> None:
    """Raise ArchiveError for an absolute member name or one with a '..' component."""
    windows = PureWindowsPath(name)  # splits on both '/' and '\\'
    if PurePosixPath(name).is_absolute() or windows.drive or windows.root:
        raise ArchiveError(f"{archive}: refusing absolute member name {name!r}")
    if ".." in windows.parts:
        raise ArchiveError(f"{archive}: refusing member name with '..' (path traversal): {name!r}")


def extract_members(archive: Path, members: Sequence[str], dest_dir: Path) -> list[Path]:
    """Extract the named zip members flat into dest_dir, atomically, refusing unsafe names."""
    for name in members:
        check_member_name(archive, name)
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = [_member_info(zf, archive, name) for name in members]
            dest_dir.mkdir(parents=True, exist_ok=True)
            return [_extract_one(zf, info, dest_dir) for info in infos]
    except _DAMAGED as err:
        raise ArchiveError(f"{archive}: damaged zip archive ({_describe(err)})") from err


def extract_tar(archive: Path, dest: Path) -> None:
    """Extract a tar archive (any compression) into dest, refusing unsafe members."""
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for member in members:
                _check_tar_member(archive, member)
            tar.extractall(dest, members=members, filter="data")
    except _DAMAGED as err:
        raise ArchiveError(f"{archive}: cannot be extracted ({_describe(err)})") from err


def check_archive(path: Path, members: Sequence[str] = ()) -> None:
    """Raise ArchiveError unless path is a whole archive (zip, tar or gzip) holding `members`.

    zip: the needed members are read through (their CRCs checked); tar: every member header is
    read (the whole compressed stream); gzip: the file decompresses to its end.
    """
    name = path.name
    try:
        if name.endswith(".zip"):
            _check_zip(path, members)
        elif name.endswith((".tar", ".tar.gz", ".tgz")):
            _check_tar(path, members)
        elif name.endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                while fh.read(_CHUNK):
                    pass
    except _DAMAGED as err:
        raise ArchiveError(f"{path}: damaged or incomplete archive ({_describe(err)})") from err


def _check_zip(path: Path, members: Sequence[str]) -> None:
    """Open a zip, find each member and read it through (zipfile checks its CRC at the end)."""
    with zipfile.ZipFile(path) as zf:
        for member in members:
            with zf.open(_member_info(zf, path, member)) as fh:
                while fh.read(_CHUNK):
                    pass


def _check_tar(path: Path, members: Sequence[str]) -> None:
    """Read every member header of a tar (so the whole stream) and find each needed member."""
    with tarfile.open(path) as tar:
        names = set(tar.getnames())
    missing = [m for m in members if m not in names]
    if missing:
        raise ArchiveError(f"{path} has no member(s) {missing}")


def _describe(err: BaseException) -> str:
    """The type and message of an error, e.g. 'BadZipFile: File is not a zip file'."""
    return f"{type(err).__name__}: {err}"


def _check_tar_member(archive: Path, member: tarfile.TarInfo) -> None:
    """Refuse absolute names, '..' components, links and special files."""
    check_member_name(archive, member.name)
    if not (member.isfile() or member.isdir()):
        raise ArchiveError(
            f"{archive}: refusing member {member.name!r}: not a regular file or folder"
        )


def _member_info(zf: zipfile.ZipFile, archive: Path, name: str) -> zipfile.ZipInfo:
    """Return the ZipInfo of a file member, with errors that name the archive."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ArchiveError(f"{archive} has no member {name!r}") from None
    if info.is_dir():
        raise ArchiveError(f"{archive}: member {name!r} is a directory, not a file")
    return info


def _extract_one(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest_dir: Path) -> Path:
    """Extract one member to dest_dir/<basename> via a temporary file and rename."""
    target = dest_dir / PureWindowsPath(info.filename).name
    with atomic_path(target) as tmp, zf.open(info) as src, tmp.open("wb") as out:
        shutil.copyfileobj(src, out)
    return target
