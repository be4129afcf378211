"""The pinned environment: requirements.lock, the conda env and pyproject's ranges agree, and every
run's provenance names the lock it was installed with."""

import hashlib
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from visionrepro.provenance import LOCK, lock_digest, provenance

ROOT = Path(__file__).resolve().parent.parent
# conda-forge's names of PyPI packages, where they differ.
CONDA_TO_PYPI = {"pytorch": "torch", "matplotlib-base": "matplotlib"}


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a pip requirements file, by canonical name."""
    found = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            req = Requirement(line.split("#")[0])
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: {line!r} is not an exact pin"
            found[canonicalize_name(req.name)] = spec.version
    return found


def conda_pins() -> dict[str, str]:
    """The conda env's packages (PyPI names) and their exact versions; python excluded."""
    env = yaml.safe_load((ROOT / "envs/visionrepro.yaml").read_text())
    found = {}
    for dep in env["dependencies"]:
        name, sep, version = dep.partition("==")
        if name.startswith("python="):
            continue
        assert sep, f"envs/visionrepro.yaml: {dep!r} is not pinned with =="
        found[canonicalize_name(CONDA_TO_PYPI.get(name, name))] = version
    return found


def project_requirements() -> list[Requirement]:
    """pyproject.toml's dependencies and those of its extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for reqs in project["optional-dependencies"].values() for r in reqs]
    return [Requirement(r) for r in project["dependencies"] + extras]


def test_conda_env_pins_the_locked_versions() -> None:
    locked = pins(ROOT / LOCK)
    conda = conda_pins()
    assert {name: locked.get(name) for name in conda} == conda


def test_conda_env_has_every_runtime_dependency_but_snakemake() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    assert runtime - set(conda_pins()) == {"snakemake"}


def test_lock_satisfies_pyprojects_ranges() -> None:
    locked = pins(ROOT / LOCK)
    for req in project_requirements():
        name = canonicalize_name(req.name)
        assert name in locked, f"{LOCK} lacks {req.name}: refresh it (docs/development.md)"
        assert req.specifier.contains(locked[name]), f"{LOCK}: {name}=={locked[name]} vs {req}"


def test_lock_keeps_the_held_pins() -> None:
    held = pins(ROOT / "envs/lock-pins.txt")
    locked = pins(ROOT / LOCK)
    assert held and {name: locked.get(name) for name in held} == held


def test_provenance_records_the_locks_sha256(tmp_path: Path) -> None:
    assert provenance(tmp_path)["lock_sha256"] is None  # a folder without a lock
    (tmp_path / LOCK).write_text("numpy==2.4.6\n")
    expected = hashlib.sha256(b"numpy==2.4.6\n").hexdigest()
    assert provenance(tmp_path)["lock_sha256"] == expected
    assert lock_digest(ROOT) == hashlib.sha256((ROOT / LOCK).read_bytes()).hexdigest()
