"""A network file that exits or parses the command line at import (issue 33, point 10):
`sys.exit(0)` (or `os._exit(0)`) at import made `snakemake` exit 0 with nothing run and no
message; an argparse at import printed `usage: snakemake [-h] [--width WIDTH]`, which reads like
Snakemake rejecting its own arguments; a slow import was silent. Each exit is now an error naming
the file, the file sees its own name as the command line, and a slow import says which file.
"""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from visionrepro.models import user
from visionrepro.models.user import NetworkFileError, check_file_network

NET = """
from torch import nn


class Net(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.fc = nn.Linear(3, num_classes)

    def forward(self, x):
        return self.fc(x.mean(dim=(2, 3)))
"""


def _network(tmp_path: Path, prelude: str, name: str) -> str:
    """A network file nets/<name>.py whose import first runs `prelude`; its reference."""
    (tmp_path / "nets").mkdir(exist_ok=True)
    (tmp_path / "nets" / f"{name}.py").write_text(prelude + "\n" + NET)
    return f"nets/{name}.py:Net"


def _check(network: str) -> int:
    return check_file_network(
        network, num_classes=5, options={}, input_shape=(3, 8, 8), task="classification"
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("code", ["import sys\nsys.exit(0)", "raise SystemExit(3)"])
def test_sys_exit_at_import_is_an_error_naming_the_file(project: Path, code: str) -> None:
    network = _network(project, code, "exits")
    with pytest.raises(NetworkFileError, match=r"^nets/exits.py exits when imported \(sys.exit"):
        _check(network)


def test_argparse_at_import_sees_the_file_not_snakemake_s_arguments(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(sys, "argv", ["snakemake", "--cores", "all"])
    code = (
        "import argparse\nparser = argparse.ArgumentParser()\n"
        "parser.add_argument('--width', type=int, default=4)\nARGS = parser.parse_args()"
    )
    assert _check(_network(project, code, "parses")) == 3 * 5 + 5  # no arguments: it works
    assert sys.argv == ["snakemake", "--cores", "all"]  # put back
    needs = "import argparse\np = argparse.ArgumentParser()\np.add_argument('data')\np.parse_args()"
    with pytest.raises(NetworkFileError, match=r"^nets/needs.py exits when imported .*code 2"):
        _check(_network(project, needs, "needs"))
    assert "usage: snakemake" not in capsys.readouterr().err


def test_os_exit_at_import_is_an_error_not_a_silent_exit(project: Path) -> None:
    """In a child process: before the fix, os._exit ended it with status 0 and no message."""
    _network(project, "import os\nos._exit(0)", "quits")
    script = (
        "from visionrepro.models.user import load_network_class\n"
        "load_network_class('nets/quits.py:Net')\nprint('not reached')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(user.__file__).parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "nets/quits.py exits when imported (os._exit, code 0)" in done.stderr
    assert "not reached" not in done.stdout


def test_a_slow_import_says_which_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(user, "SLOW_IMPORT_S", 0.05)
    network = _network(project, "import time\ntime.sleep(0.5)", "slow")
    with caplog.at_level(logging.INFO, logger="visionrepro"):
        _check(network)
    assert "loading the network file nets/slow.py" in caplog.text
    assert "still importing the network file nets/slow.py" in caplog.text


def test_a_fast_import_says_nothing_more(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="visionrepro"):
        _check(_network(project, "", "fast"))
    assert "still importing" not in caplog.text
