"""What produced a result: code version, package versions, device, host, time."""

import datetime as dt
import hashlib
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

from visionrepro.fileio import file_digest

PACKAGES = (
    "visionrepro",
    "torch",
    "torchvision",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",  # the verdicts' Student t and Welch tests
    "pycocotools",
    "pillow",
    "snakemake",
)
# The parts of a workflow folder whose content is its code (hashed without a git checkout).
CODE_PARTS = ("Snakefile", "rules", "workflow_scripts", "src")
SKIPPED = ("__pycache__", ".egg-info", ".pyc")
# The exact package versions the workflow is installed with (README, .ci/run).
LOCK = "requirements.lock"


def git_commit(repo: str | Path) -> str | None:
    """The commit of `repo` (" (modified)" when tracked files differ from it), or None when
    `repo` is not a git checkout (or git is missing)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"git {commit}" + (" (modified)" if dirty else "")


def code_files(repo: str | Path) -> Iterator[Path]:
    """The workflow's code files (CODE_PARTS), in a fixed order, without caches."""
    root = Path(repo)
    for part in CODE_PARTS:
        path = root / part
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in candidates:
            if file.is_file() and not any(s in file.as_posix() for s in SKIPPED):
                yield file


def content_hash(repo: str | Path) -> str:
    """A SHA-256 (12 hex digits) over the code files' relative paths and contents."""
    digest = hashlib.sha256()
    for file in code_files(repo):
        digest.update(file.relative_to(repo).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def code_version(repo: str | Path) -> str:
    """The git commit where `repo` is a checkout, else the package version and a content hash of
    the workflow's code (e.g. "visionrepro 0.1.0, content 3f2a9c1b0d4e")."""
    commit = git_commit(repo)
    if commit is not None:
        return commit
    try:
        version = metadata.version("visionrepro")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    return f"visionrepro {version}, content {content_hash(repo)}"


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the results."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def lock_digest(repo: str | Path) -> str | None:
    """The SHA-256 of the workflow's requirements.lock, or None where `repo` has none."""
    lock = Path(repo) / LOCK
    return file_digest(lock, "sha256") if lock.is_file() else None


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def data_digests(paths: Iterable[str | Path | None]) -> dict[str, str]:
    """The SHA-256 of each data file a run read, by file name (empty entries skipped)."""
    return {Path(p).name: file_digest(p, "sha256") for p in paths if p}


def project_digests(paths: Iterable[str | Path | None]) -> dict[str, str]:
    """The SHA-256 of each file of the user's project a run imports (a network file and the
    files it imports: imported_project_files), by its path relative to the project: the code
    version (a commit) does not cover untracked files."""
    return {Path(p).as_posix(): file_digest(p, "sha256") for p in paths if p}


def imported_project_files(project: str | Path) -> list[str]:
    """The files of the modules loaded now that lie in the user's `project` folder, outside
    the library, hidden folders (.venv, .snakemake) and installed packages (a network file
    and what it imports), relative to the project, sorted."""
    root = Path(project).resolve()
    library = Path(__file__).resolve().parent
    found = set()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name == "__main__":
            continue  # the running script: the workflow's own code, in the code version
        if not (isinstance(file, str) and os.path.isabs(file) and os.path.isfile(file)):
            continue  # built-in, frozen, or a name without a path (e.g. "_classes.py")
        path = Path(file).resolve()
        inside = path.is_relative_to(root) and not path.is_relative_to(library)
        hidden = any(part.startswith(".") or part == "site-packages" for part in path.parts)
        if inside and not hidden:  # not .venv, not Snakemake's .snakemake/scripts
            found.add(path.relative_to(root).as_posix())
    return sorted(found)


def provenance(repo: str | Path, **extra: object) -> dict[str, object]:
    """A provenance record of the workflow folder `repo`; `extra` adds run-specific fields
    (seed, device, config...)."""
    return {
        "code_version": code_version(repo),
        "versions": package_versions(),
        "lock_sha256": lock_digest(repo),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }
