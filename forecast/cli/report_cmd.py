"""``compute-gap report``: the main job, a report to forward as is (HTML, Markdown, figures)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecast.cli.common import (
    CacheOption,
    DataDirOption,
    DrawsDtypeOption,
    DrawsOption,
    HorizonOption,
    OverwriteOption,
    SeedOption,
    UntilOption,
    app,
    console,
    fit_options,
)
from forecast.text import plain


@app.command("report")
def report_command(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenario names or paths (default: the library).")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Report directory (an earlier report is replaced).")
    ] = Path("reports/latest"),
    overwrite: OverwriteOption = False,
    data_dir: DataDirOption = None,
    until: UntilOption = None,
    horizon: HorizonOption = 2035,
    seed: SeedOption = 0,
    draws: DrawsOption = None,
    cache_dir: CacheOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    draws_dtype: DrawsDtypeOption = "float64",
) -> None:
    """Fit (or reuse the cached fit), project, and write report.html, report.md and figures."""
    from forecast.report import report  # matplotlib loads only for this command

    written = report(
        scenarios or None, out=out, data_dir=data_dir, until=until, seed=seed, horizon=horizon,
        draws=draws, quiet=quiet, overwrite=overwrite, fit_options=fit_options(cache_dir),
        draws_dtype=draws_dtype,
    )  # fmt: skip
    console.print(plain(f"report: {written.resolve() / 'report.html'}"), highlight=False)
    console.print(plain(f"        {written.resolve() / 'report.md'} (figures in figures/)"),
                  highlight=False)  # fmt: skip
