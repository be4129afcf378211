"""Networks from a file of the user's project (`nets/tiny.py:TinyNet`): loaded by path (relative
to the project folder, the working directory of Snakemake and of every job, on a cluster node
too), and checked while the workflow is parsed: the class exists, takes `num_classes`, and its
output fits the task on one input of the experiment's shape.
"""

import functools
import hashlib
import importlib.util
import inspect
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from visionrepro.errors import UserError
from visionrepro.networks import parse_network
from visionrepro.tasks import TASKS

log = logging.getLogger(__name__)


class NetworkFileError(UserError, ValueError):
    """A network file or class that cannot be used; the message says which and what to fix."""


def _module_name(path: Path) -> str:
    """A module name of its own for each file (two files may share a stem)."""
    stem = re.sub(r"\W", "_", path.stem)
    return f"visionrepro_network_{stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"


def load_module(file: Path) -> ModuleType:
    """Import a network file (once per process); an error in it names the file."""
    if not file.is_file():
        raise NetworkFileError(
            f"{file} does not exist (paths are relative to the project folder {Path.cwd()}); "
            "write the file's path from there, e.g. nets/tiny.py:TinyNet"
        )
    path = file.resolve()
    name = _module_name(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    log.info("loading the network file %s", file)
    try:
        with _guarded_import(file), _slow_notice(file):
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as err:  # noqa: BLE001 - the user's file's error, named
        del sys.modules[name]
        raise NetworkFileError(_import_failure(file, err)) from err
    return module


class ExitAtImport(SystemExit):
    """os._exit called by a network file while it is imported (raised instead of exiting)."""


SLOW_IMPORT_S = 5.0  # after this long, say which network file is still being imported


@contextmanager
def _slow_notice(file: Path) -> Iterator[None]:
    """Log a warning naming `file` if importing it takes more than SLOW_IMPORT_S."""
    started = time.monotonic()
    timer = threading.Timer(
        SLOW_IMPORT_S,
        lambda: log.warning(
            "still importing the network file %s (%.0f s so far)", file, time.monotonic() - started
        ),
    )
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextmanager
def _guarded_import(file: Path) -> Iterator[None]:
    """While a network file is imported: it sees its own name as the command line (not
    Snakemake's arguments, which an argparse at import would reject as if Snakemake did), and
    os._exit raises ExitAtImport instead of ending the process without a word."""

    def refuse_exit(code: int) -> None:
        raise ExitAtImport(code)

    argv, exit_now = sys.argv, os._exit
    sys.argv, os._exit = [str(file)], refuse_exit
    try:
        yield
    finally:
        sys.argv, os._exit = argv, exit_now


def _import_failure(file: Path, err: BaseException) -> str:
    """Why importing `file` failed, for NetworkFileError."""
    if isinstance(err, SystemExit):
        how = "os._exit" if isinstance(err, ExitAtImport) else "sys.exit (or argparse)"
        return (
            f"{file} exits when imported ({how}, code {err.code!r}); a network file must only "
            'define its classes: move any script code under `if __name__ == "__main__":`'
        )
    return f"{file} fails to import: {type(err).__name__}: {err}"


def load_network_class(network: str) -> type[nn.Module]:
    """The class a `<file>.py:<Class>` reference names."""
    ref = parse_network(network)
    file, cls_name = Path(ref.file), ref.name
    module = load_module(file)
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        found = sorted(
            n
            for n, v in vars(module).items()
            if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == module.__name__
        )
        raise NetworkFileError(
            f"{file} defines no torch.nn.Module class {cls_name!r}; its network classes: {found}"
        )
    return cls


def build_file_network(network: str, num_classes: int, **options: Any) -> nn.Module:
    """Instantiate a file network with `num_classes` outputs and its options."""
    return load_network_class(network)(num_classes=num_classes, **options)


def expected_output(task: str, num_classes: int, size: int) -> tuple[int, ...]:
    """The output shape of one input: a score per class, or per class and pixel."""
    return (1, num_classes, size, size) if TASKS[task].dense else (1, num_classes)


def check_file_network(
    network: str,
    *,
    num_classes: int,
    options: Mapping[str, Any],
    input_shape: tuple[int, int, int],
    task: str,
) -> int:
    """Build the network and run it once on zeros of `input_shape` (C x H x W); raise
    NetworkFileError unless its output fits `task`. Returns its parameter count."""
    cls = load_network_class(network)
    try:
        inspect.signature(cls).bind(num_classes=num_classes, **options)
    except TypeError as err:
        raise NetworkFileError(
            f"{network}: {cls.__name__}{inspect.signature(cls)} cannot be called with "
            f"num_classes={num_classes}{''.join(f', {k}={v!r}' for k, v in options.items())} "
            f"({err}); its constructor must take num_classes (the number of classes it "
            "predicts) and the experiment's network_options"
        ) from None
    hint = channels_hint(cls, options, input_shape[0])
    build = functools.partial(cls, num_classes=num_classes, **options)
    return dry_run(network, build, input_shape, task, num_classes, hint)


def channels_hint(cls: type, options: Mapping[str, Any], channels: int) -> str:
    """The fix when the constructor takes in_channels and gets another count than the input's."""
    parameter = inspect.signature(cls).parameters.get("in_channels")
    if parameter is None:
        return ""
    given = options.get("in_channels", parameter.default)
    if given == channels:
        return ""
    return (
        f"; its constructor takes in_channels ({given!r} here) and the experiment's inputs have "
        f"{channels} channel{'s' if channels != 1 else ''}: set network_options: "
        f"{{in_channels: {channels}}}"
    )


def dry_run(
    network: str,
    build: Any,
    input_shape: tuple[int, int, int],
    task: str,
    num_classes: int,
    hint: str = "",
) -> int:
    """Run `build()` once on zeros of `input_shape`; raise NetworkFileError (with `hint`) unless
    its output fits `task`. Returns its parameter count."""
    shown = "x".join(map(str, input_shape))
    try:
        model = build().eval()
        with torch.no_grad():
            out = model(torch.zeros(1, *input_shape))
    except Exception as err:  # noqa: BLE001 - any failure of the network is reported
        raise NetworkFileError(
            f"{network} fails on one input of the experiment's shape 1x{shown}: "
            f"{type(err).__name__}: {err}{hint}"
        ) from err
    expected = expected_output(task, num_classes, input_shape[-1])
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
    if shape != expected:
        raise NetworkFileError(
            f"{network} gives an output of shape {shape} for one input of shape 1x{shown}; a "
            f"{task} network with {num_classes} classes must give {expected} (scores per "
            f"class{'' if len(expected) == 2 else ' and pixel'}){hint}"
        )
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
