"""The ``compute-gap`` command line.

The app, the shared options and the error printers live in :mod:`forecast.cli.common`; each
command group is a module of this package that registers its commands on ``app`` when
imported (see the imports at the bottom). Command modules import what a command needs inside
it, so ``compute-gap --help`` loads none of pandas, PyMC or matplotlib.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import typer

from forecast.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_SYSTEM,
    DataDirOption,
    OverwriteOption,
    UntilOption,
    app,
    console,
    err_console,
    print_error,
    print_problems,
)
from forecast.errors import ComputeGapError, DataError, ScenarioError
from forecast.interrupt import Interrupted, handled
from forecast.text import plain, visible

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_SYSTEM",
    "DataDirOption",
    "OverwriteOption",
    "UntilOption",
    "app",
    "console",
    "err_console",
    "main",
    "print_error",
    "print_problems",
]


def _run(argv: list[str] | None) -> int:
    try:
        code = app(args=argv, standalone_mode=False)
    except (DataError, ScenarioError) as err:
        print_problems(err)
        return EXIT_BAD_INPUT
    except ComputeGapError as err:
        print_error(err)
        return EXIT_BAD_INPUT
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except typer.TyperException as err:  # usage errors: missing argument, bad option value
        if not hasattr(err, "show"):
            raise
        err.message = visible(err.message)
        err.show()
        return EXIT_BAD_INPUT
    except OSError as err:  # the disk is full, the file system failed: not the user's input
        where = f" ({err.filename})" if err.filename else ""
        print_error(f"{err.strerror or err}{where}; no result set was changed")
        return EXIT_SYSTEM
    except MemoryError:
        print_error("out of memory; lower --draws, --horizon or --samples")
        return EXIT_SYSTEM
    return code if isinstance(code, int) else 0


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show each warning as one ``warning: MESSAGE`` line (not Python's two-line format)."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        err_console.print("[yellow]warning:[/]", plain(message), highlight=False)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app; bad input ends in a message and exit code 2, Ctrl-C in one
    line and exit code 130, never in a traceback."""
    with handled(), _warnings_as_lines():
        try:
            return _run(argv)
        except Interrupted as stop:
            err_console.print("interrupted")
            return stop.exit_code


# Command modules register themselves on ``app``, in this order in ``--help``.
from forecast.cli import data_cmd  # noqa: E402, F401
from forecast.cli import scenario_cmd  # noqa: E402, F401
from forecast.cli import run_cmd  # noqa: E402, F401
from forecast.cli import models_cmd  # noqa: E402, F401
from forecast.cli import sweep_cmd  # noqa: E402, F401
from forecast.cli import report_cmd  # noqa: E402, F401
from forecast.cli import fit_cmd  # noqa: E402, F401
from forecast.cli import explore_cmd  # noqa: E402, F401
