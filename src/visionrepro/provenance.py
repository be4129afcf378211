"""What produced a result: git commit, package versions, device, host, time."""

import datetime as dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "visionrepro",
    "torch",
    "torchvision",
    "numpy",
    "pandas",
    "scikit-learn",
    "pycocotools",
    "pillow",
    "snakemake",
)


def git_commit(repo: str | Path) -> str:
    """The commit of `repo` (with '-dirty' for uncommitted changes), or 'unknown'."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the results."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance(repo: str | Path, **extra: object) -> dict[str, object]:
    """A provenance record; `extra` adds run-specific fields (seed, device, config...)."""
    return {
        "git_commit": git_commit(repo),
        "versions": package_versions(),
        "host": platform.node(),
        "platform": platform.platform(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }
