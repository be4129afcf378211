"""What the command-line tools share (compare, republish, spread, status): the whole module
docstring and the exit statuses in --help, and exit statuses a script can tell apart.

    0  done, nothing to report
    1  the tool found what it was asked to look for (compare --fail-on: a regression)
    2  bad input or usage: a wrong option (argparse), a missing or unreadable input, an output
       that cannot be written; one line on stderr names the file and the fix
    3  a bug: anything else, with its traceback
"""

import argparse
import sys
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path

from visionrepro.errors import UserError
from visionrepro.fileio import atomic_path

OK, FOUND, BAD_INPUT, BUG = 0, 1, 2, 3


def prog_name(module: str) -> str:
    """How the tool was called: `python -m <module>`, or its console script's name."""
    script = Path(sys.argv[0]).name
    return f"python -m {module}" if script in ("__main__.py", "-m", "") or "." in script else script


def exit_statuses(found: str | None) -> str:
    """The --help epilog: each exit status the tool can give."""
    lines = ["exit status:", "  0  done" + ("" if found else ", nothing to report")]
    if found:
        lines.append(textwrap.fill(found, 80, initial_indent="  1  ", subsequent_indent="     "))
    lines += [
        "  2  bad input or usage (a missing or unreadable input, an output that cannot be",
        "     written, a wrong option): one line on stderr says what to fix",
        "  3  a bug (anything else): its traceback is printed; please report it",
    ]
    return "\n".join(lines)


def make_parser(module: str, doc: str | None, found: str | None = None) -> argparse.ArgumentParser:
    """An ArgumentParser whose --help shows the whole docstring `doc` and the exit statuses;
    `found` says what exit status 1 means for this tool (None: it never exits 1)."""
    return argparse.ArgumentParser(
        prog=prog_name(module),
        description=doc,
        epilog=exit_statuses(found),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def run(
    parser: argparse.ArgumentParser,
    body: Callable[[argparse.Namespace], int],
    argv: list[str] | None = None,
) -> int:
    """Parse `argv` and run `body`: its status, 2 with one line on stderr for a UserError,
    3 with the traceback for anything else (never 1, which belongs to the tool)."""
    args = parser.parse_args(argv)  # a usage error exits 2 here, argparse's own way
    try:
        return body(args)
    except UserError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return BAD_INPUT
    except Exception:  # noqa: BLE001 - a bug: its own exit status, so CI tells it apart
        traceback.print_exc()
        print(
            f"{parser.prog}: this is a bug (exit status {BUG}); please report it", file=sys.stderr
        )
        return BUG


def write_output(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write` with a temporary path beside `path` and move it into place (atomically); a
    folder that cannot be made or written to is a UserError naming `path`."""
    try:
        with atomic_path(path) as tmp:
            write(tmp)
    except OSError as error:
        raise UserError(
            f"cannot write {path} ({error.strerror or error}); give a path in a folder you can "
            "write to"
        ) from error
