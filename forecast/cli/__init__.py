"""The ``compute-gap`` command line.

The app and the shared options live here; each command group is a module of this package
that registers its commands on ``app`` when imported (see the imports at the bottom).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from forecast._version import __version__
from forecast.errors import DataError, ModelError, ScenarioError

#: Exit code for bad input (data, scenario, arguments).
EXIT_BAD_INPUT = 2

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
    int | None, typer.Option("--until", help="As-of cut-off: ignore data after this year.")
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
    err_console.print(f"[bold red]{err.problems.__len__()} problem(s) found:[/]")
    for problem in err.problems:
        err_console.print(f"  {problem}", markup=False, highlight=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning bad-input errors into messages and exit code 2."""
    try:
        code = app(args=argv, standalone_mode=False)
    except (DataError, ScenarioError) as err:
        print_problems(err)
        return EXIT_BAD_INPUT
    except ModelError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False)
        return EXIT_BAD_INPUT
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except typer.TyperException as err:  # usage errors: missing argument, bad option value
        if not hasattr(err, "show"):
            raise
        err.show()
        return EXIT_BAD_INPUT
    return code if isinstance(code, int) else 0


# Command modules register themselves on ``app``.
from forecast.cli import data_cmd  # noqa: E402, F401
from forecast.cli import scenario_cmd  # noqa: E402, F401
from forecast.cli import run_cmd  # noqa: E402, F401
from forecast.cli import models_cmd  # noqa: E402, F401
from forecast.cli import sweep_cmd  # noqa: E402, F401
from forecast.cli import report_cmd  # noqa: E402, F401
from forecast.cli import fit_cmd  # noqa: E402, F401
