"""Which module defines each network: importable without torch, so the workflow can use it."""

from pathlib import Path

NETWORK_MODULES: dict[str, str] = {
    "HW4Net1": "hw4net",
    "HW4Net2": "hw4net",
    "HW4Net3": "hw4net",
}

PACKAGE_DIR = Path(__file__).resolve().parent


def network_module(name: str) -> str:
    """The module (under visionrepro.models) that defines network `name`."""
    try:
        return NETWORK_MODULES[name]
    except KeyError:
        known = ", ".join(sorted(NETWORK_MODULES))
        raise KeyError(f"unknown network {name!r}; known networks: {known}") from None


def network_source(name: str) -> Path:
    """Return the file that defines network `name` (an input of its training rule)."""
    return PACKAGE_DIR / "models" / f"{network_module(name)}.py"
