"""The ``compute-gap`` command line.

The app and the shared options live here; each command group is a module of this package
that registers its commands on ``app`` when imported (see the imports at the bottom).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from forecast import bounds
from forecast._version import __version__
from forecast.errors import ComputeGapError, DataError, ScenarioError
from forecast.interrupt import Interrupted, handled
from forecast.text import plain, visible

#: Exit code for bad input (data, scenario, arguments, an output directory in the way).
EXIT_BAD_INPUT = 2
#: Exit code when the system fails us (a full disk, an I/O error, no memory).
EXIT_SYSTEM = 1

app = typer.Typer(
    name="compute-gap",
    help="Forecast the US-China AI compute gap under export-control scenarios.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Directory with your own data files (default: shipped data)."),
]
UntilOption = Annotated[
    int | None,
    typer.Option(
        "--until", help="As-of cut-off: ignore data after this year.", **bounds.UNTIL.option()
    ),
]
OverwriteOption = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Write into an existing directory compute-gap did not write (its other files are "
        "kept), or over result files changed since.",
    ),
]


def _version(value: bool) -> None:
    if value:
        console.print(f"compute-gap {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Forecast the US-China AI compute gap under export-control scenarios."""


def print_problems(err: DataError | ScenarioError) -> None:
    """Every problem of ``err`` on stderr, one per line, as plain text."""
    err_console.print(f"[bold red]{len(err.problems)} problem(s) found:[/]")
    for problem in err.problems:
        err_console.print(plain(f"  {problem}"), highlight=False)


def print_error(message: object) -> None:
    """``error: MESSAGE`` on stderr; the message is plain text (never markup)."""
    err_console.print("[bold red]error:[/]", plain(message), highlight=False)


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


# Command modules register themselves on ``app``.
from forecast.cli import data_cmd  # noqa: E402, F401
from forecast.cli import scenario_cmd  # noqa: E402, F401
from forecast.cli import run_cmd  # noqa: E402, F401
from forecast.cli import models_cmd  # noqa: E402, F401
from forecast.cli import sweep_cmd  # noqa: E402, F401
from forecast.cli import report_cmd  # noqa: E402, F401
from forecast.cli import fit_cmd  # noqa: E402, F401
from forecast.cli import explore_cmd  # noqa: E402, F401
