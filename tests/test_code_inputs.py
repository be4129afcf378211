"""Each rule's code inputs (code_inputs.py) are the library modules its script imports, but for
the differences code_inputs.py names as intended."""

import ast
import re
from pathlib import Path

import pytest
from workflow_helpers import PROJECT

from visionrepro.code_inputs import CODE, HELPERS, INTENDED, UNIMPORTED

SRC = PROJECT / "src"


def _module_file(module: str) -> Path | None:
    path = SRC / module.replace(".", "/")
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _runtime_nodes(tree: ast.AST):
    """The tree's nodes outside `if TYPE_CHECKING:` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(path: Path, package: str) -> set[str]:
    """The visionrepro modules one file imports."""
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
            module = ".".join(filter(None, [base, node.module or ""]))
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return {m for m in found if m.startswith("visionrepro") and _module_file(m)}


def imported(script: Path) -> set[str]:
    """The visionrepro modules a script imports, directly or through other modules, as paths
    under src/visionrepro without .py ("engine/training", "models/__init__")."""
    seen: set[str] = set()
    todo = list(_imports(script, "visionrepro"))
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(module)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        todo += _imports(path, package)
    return {str(_module_file(m).relative_to(SRC / "visionrepro").with_suffix("")) for m in seen}


def scripts() -> dict[str, Path]:
    """The script of each code list, from the rules (code=code("<key>") ... script: ...)."""
    text = "\n".join(p.read_text() for p in sorted((PROJECT / "rules").glob("*.smk")))
    pairs = re.findall(r'code=code\("(\w+)"\).*?workflow_scripts/(\w+)\.py', text, re.S)
    return {key: PROJECT / "workflow_scripts" / f"{name}.py" for key, name in pairs}


def test_every_code_list_belongs_to_a_rule_with_a_script() -> None:
    assert set(scripts()) == set(CODE)


@pytest.mark.parametrize("key", sorted(CODE))
def test_code_inputs_are_what_the_script_imports(key: str) -> None:
    used = imported(scripts()[key]) - set(HELPERS)
    listed, intended = set(CODE[key]), set(INTENDED.get(key, {}))
    assert sorted(used - listed - intended) == [], "imported but not a code input"
    unimported = UNIMPORTED.get(key, set())
    assert sorted(listed - used - unimported) == [], "a code input the script does not import"
    assert sorted(unimported & used) == [], "no longer a code input that is not imported"
    assert sorted(intended - used) == [], "an intended difference that is no longer one"
