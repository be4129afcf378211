"""A network reference, parsed once: a built-in network of the registry, or a class in a file
of the user's project written `<file>.py:<Class>` (the path relative to the project folder),
with the name its runs and table rows get (the built-in's own, or the class's).
"""

from dataclasses import dataclass
from pathlib import Path

from visionrepro.registry import NETWORKS, PACKAGE_DIR, NetworkEntry, network_entry


@dataclass(frozen=True)
class NetworkRef:
    """A network as the config names it (`spec`), its name in runs and tables, and the user's
    file and class for a network from a file (`file` is None for a built-in)."""

    spec: str
    name: str
    file: str | None = None

    @property
    def builtin(self) -> bool:
        return self.file is None

    @property
    def entry(self) -> NetworkEntry | None:
        """The registry entry of a built-in network (None for a file's or an unknown name)."""
        return NETWORKS.get(self.spec) if self.builtin else None

    def source_file(self) -> Path:
        """The file that defines the network: the user's (relative to the project), or the
        built-in's module in the installed package (an unknown name is a KeyError)."""
        if self.file is not None:
            return Path(self.file)
        return PACKAGE_DIR / "models" / f"{network_entry(self.spec).module}.py"

    def code_files(self, src: Path) -> list[str]:
        """The modules defining the network (inputs of its training and evaluation): a
        built-in's module, or the user's file and the code loading it."""
        models = src / "visionrepro" / "models"
        if self.file is not None:
            return [self.file, str(models / "user.py")]
        return [str(models / f"{self.entry.module}.py")]


def parse_network(spec: str) -> NetworkRef:
    """The reference `spec` names; a malformed `<file>.py:<Class>` is a ValueError."""
    if ":" not in spec:
        return NetworkRef(spec, spec)
    file, _, cls = spec.rpartition(":")
    if not file.endswith(".py") or not cls.isidentifier():
        raise ValueError(
            f"network {spec!r}: a network from a file is written <file>.py:<Class>, e.g. "
            "nets/tiny.py:TinyNet"
        )
    return NetworkRef(spec, cls, file)
