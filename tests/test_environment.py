"""The pinned environment: requirements.lock, the conda env and pyproject's ranges agree, and every
run's provenance names the lock it was installed with."""

import ast
import hashlib
import sys
from importlib.metadata import packages_distributions, version
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from visionrepro.provenance import LOCK, PACKAGES, lock_digest, package_versions, provenance

ROOT = Path(__file__).resolve().parent.parent
# conda-forge's names of PyPI packages, where they differ.
CONDA_TO_PYPI = {"pytorch": "torch", "matplotlib-base": "matplotlib"}
# The code whose imports the environment must provide (Snakemake itself runs the workflow).
CODE = ("src", "workflow_scripts")


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


def project_runtime() -> list[str]:
    """pyproject.toml's [project] dependencies (no extras)."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def test_conda_env_has_every_runtime_dependency_but_snakemake() -> None:
    runtime = {canonicalize_name(Requirement(r).name) for r in project_runtime()}
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


def imported_modules(root: Path) -> dict[str, str]:
    """Top-level modules imported anywhere in CODE (ast-parsed), outside the standard library and
    visionrepro, each with one file that imports it."""
    found: dict[str, str] = {}
    for part in CODE:
        for file in sorted((root / part).rglob("*.py")):
            for node in ast.walk(ast.parse(file.read_text(), str(file))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for top in {m.partition(".")[0] for m in modules}:
                    if top not in sys.stdlib_module_names and top != "visionrepro":
                        found.setdefault(top, str(file.relative_to(root)))
    return found


def distributions_of(modules: dict[str, str]) -> dict[str, str]:
    """The installed distribution (canonical name) of each imported module, e.g. yaml -> pyyaml,
    PIL -> pillow, sklearn -> scikit-learn, with the importing file."""
    installed = packages_distributions()
    missing = sorted(m for m in modules if m not in installed)
    assert not missing, f"imported but not installed: {missing} (first importers: {modules})"
    return {canonicalize_name(installed[m][0]): modules[m] for m in modules}


def test_every_third_party_import_is_declared_in_pyproject_and_the_conda_env() -> None:
    imported = distributions_of(imported_modules(ROOT))
    assert {"torch", "pyyaml", "pillow", "scikit-learn", "docutils"} <= set(imported)
    declared = {canonicalize_name(Requirement(r).name) for r in project_runtime()}
    undeclared = {d: f for d, f in imported.items() if d not in declared}
    assert not undeclared, f"pyproject.toml [project] dependencies lack {undeclared}"
    conda = set(conda_pins()) | {"snakemake"}
    outside = {d: f for d, f in imported.items() if d not in conda}
    assert not outside, f"envs/visionrepro.yaml lacks {outside} (pin the {LOCK} version)"


def test_the_import_scan_finds_imports_of_every_form(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "workflow_scripts").mkdir()
    (tmp_path / "src/a.py").write_text(
        "import os, yaml\nfrom PIL import Image\nfrom . import b\nimport visionrepro.x\n"
    )
    (tmp_path / "workflow_scripts/s.py").write_text("def f():\n    import sklearn.metrics\n")
    assert set(imported_modules(tmp_path)) == {"yaml", "PIL", "sklearn"}
    assert set(distributions_of(imported_modules(tmp_path))) == {
        "pyyaml",
        "pillow",
        "scikit-learn",
    }


def test_provenance_records_scipys_version_and_older_tables_read_without_it() -> None:
    import pandas as pd

    from visionrepro.report.views import provenance_summary

    assert "scipy" in PACKAGES and package_versions()["scipy"] == version("scipy")
    row = {"code_version": "git a", "device_name": "cpu", "threads": 1, "train_seconds": 1.0}
    older = pd.DataFrame([{**row, "torch": "2.14.1"}])  # a runs.csv written before scipy was
    assert provenance_summary(older)["versions"] == "torch 2.14.1"
    newer = older.assign(scipy="1.17.1")
    assert provenance_summary(newer)["versions"] == "torch 2.14.1, scipy 1.17.1"
