"""What every command shares: the app, the consoles, the exit codes, the common options and
the error printers.

Light on purpose: ``compute-gap --help`` imports this and the command modules, and nothing
here loads pandas, PyMC or matplotlib (each command imports those when it runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.core import TyperGroup

from forecast import bounds
from forecast._version import __version__
from forecast.errors import DataError, ScenarioError
from forecast.text import plain

#: Exit code for bad input (data, scenario, arguments, an output directory in the way).
EXIT_BAD_INPUT = 2
#: Exit code when the system fails us (a full disk, an I/O error, no memory).
EXIT_SYSTEM = 1


class _Group(TyperGroup):
    """Lists each command with the whole first sentence of its help, wrapped (click would cut
    it to one line)."""

    def format_commands(self, ctx, formatter) -> None:  # click's Context, HelpFormatter
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


# Plain (click) help, not typer's rich panels: rendering those imports markdown-it, pygments
# and rich's tracebacks, which alone take as long as importing typer and rich (issue 13 asks
# for --help within 3x of that).
app = typer.Typer(
    name="compute-gap",
    cls=_Group,
    help="Forecast the US-China AI compute gap under export-control scenarios.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
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


SeedOption = Annotated[
    int, typer.Option("--seed", help="One seed for fit and projection.", **bounds.SEED.option())
]
HorizonOption = Annotated[
    int, typer.Option("--horizon", help="Last projected year.", **bounds.HORIZON.option())
]
DrawsOption = Annotated[
    int | None,
    typer.Option(
        "--draws", help="Posterior draws to project (default: all).", **bounds.DRAWS.option()
    ),
]
DrawsDtypeOption = Annotated[
    str,
    typer.Option(
        "--draws-dtype",
        help="Storage type of the values in draws.parquet: float64, or float32 (half the "
        "size, about 7 significant digits).",
    ),
]
CacheOption = Annotated[
    Path | None, typer.Option("--cache-dir", help="Where fitted posteriors are cached.")
]


def fit_options(cache_dir: Path | None) -> dict:
    """Keyword arguments of the fit; a ``--cache-dir`` is checked now, before any work."""
    if cache_dir is None:
        return {}
    from forecast.model.cache import prepare  # arviz loads only when a cache is named

    prepare(cache_dir)
    return {"cache_dir": cache_dir}


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
