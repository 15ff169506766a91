"""``compute-gap run`` and ``compute-gap compare``: project scenarios on the cached fit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

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

if TYPE_CHECKING:
    import pandas as pd


def _headline(frame: pd.DataFrame) -> Table:
    """The tidy headline (:func:`forecast.runner.headline_table`) as one row per scenario."""
    from forecast.runner import HEADLINE_COLUMNS

    low, median, high = HEADLINE_COLUMNS[3:]
    keys = list(dict.fromkeys(zip(frame["metric"], frame["year"], strict=True)))
    table = Table(title="median [90 % interval]")
    table.add_column("scenario", no_wrap=True)
    for metric, year in keys:
        table.add_column(f"{metric} {year}", justify="right")
    for name, rows in frame.groupby("scenario", sort=False):
        cells = {(r.metric, r.year): r for r in rows.itertuples()}
        table.add_row(plain(name), *(
            f"{getattr(c, median):.3g} [{getattr(c, low):.3g}, {getattr(c, high):.3g}]"
            for c in (cells[key] for key in keys)
        ))  # fmt: skip
    return table


@app.command("run")
def run_command(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenario names or paths (default: the library).")
    ] = None,
    data_dir: DataDirOption = None,
    until: UntilOption = None,
    horizon: HorizonOption = 2035,
    seed: SeedOption = 0,
    draws: DrawsOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Output directory (replaced as a whole).")
    ] = Path("results"),
    overwrite: OverwriteOption = False,
    cache_dir: CacheOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the headline as JSON.")] = False,
    xlsx: Annotated[
        bool, typer.Option("--xlsx", help="Also write summary.xlsx (a sheet per metric).")
    ] = False,
    draws_dtype: DrawsDtypeOption = "float64",
) -> None:
    """Project scenarios (default: the whole library) and write summary, draws and manifest."""
    from forecast.runner import headline_table, result_files, run_scenarios

    with console.status("fitting (or loading the cached fit) and projecting..."):
        result = run_scenarios(
            scenarios or None, data_dir=data_dir, until=until, horizon=horizon, seed=seed,
            draws=draws, out=out, overwrite=overwrite, fit_options=fit_options(cache_dir),
            xlsx=xlsx, draws_dtype=draws_dtype,
        )  # fmt: skip
    frame = headline_table(result.projection)
    if as_json:
        rows = json.loads(frame.to_json(orient="records"))
        typer.echo(json.dumps({"headline": rows, "out": str(result.out)}, indent=2))
        return
    console.print(_headline(frame))
    written = ", ".join(str(result.out / name) for name in result_files(xlsx))
    console.print(plain(f"wrote {written}"), highlight=False)


@app.command("compare")
def compare_command(
    a: Annotated[str, typer.Argument(help="Scenario A (name or path).")],
    b: Annotated[str, typer.Argument(help="Scenario B (name or path).")],
    metric: Annotated[
        str | None, typer.Option("--metric", help="One metric (default: all).")
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="One year (default: all).")] = None,
    data_dir: DataDirOption = None,
    until: UntilOption = None,
    horizon: HorizonOption = 2035,
    seed: SeedOption = 0,
    draws: DrawsOption = None,
    cache_dir: CacheOption = None,
) -> None:
    """Paired-draw differences A - B with 90 % intervals and P(A > B)."""
    from forecast.metrics import METRICS
    from forecast.runner import run_scenarios

    if metric is not None and metric not in METRICS:
        raise typer.BadParameter(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    with console.status("fitting (or loading the cached fit) and projecting..."):
        result = run_scenarios(
            [a, b], data_dir=data_dir, until=until, horizon=horizon, seed=seed, draws=draws,
            out=None, fit_options=fit_options(cache_dir),
        )  # fmt: skip
    names = result.projection.names
    diff = result.projection.compare(names[0], names[1], metric=metric, year=year)
    table = Table(title=plain(f"{names[0]} - {names[1]} (paired draws)"))
    for column in ("metric", "year", "mean", "q05", "q50", "q95", "P(A>B)"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in diff.itertuples():
        table.add_row(
            row.metric, str(row.year), f"{row.mean:.4g}", f"{row.q05:.4g}", f"{row.q50:.4g}",
            f"{row.q95:.4g}", f"{row.p_positive:.2f}",
        )  # fmt: skip
    console.print(table)


@app.command("attribute")
def attribute_command(
    scenario: Annotated[str, typer.Argument(help="Scenario (name or path).")],
    base: Annotated[str, typer.Option("--base", help="Base scenario.")] = "status_quo",
    year: Annotated[int, typer.Option("--year", help="Year of the ratio.")] = 2030,
    data_dir: DataDirOption = None,
    until: UntilOption = None,
    horizon: HorizonOption = 2035,
    seed: SeedOption = 0,
    draws: DrawsOption = None,
    cache_dir: CacheOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """How much each lever of SCENARIO moves log(ratio_us_cn) against the base (Shapley)."""
    from forecast.attribution import attribute
    from forecast.runner import run_scenarios

    with console.status("fitting (or loading the cached fit) and projecting..."):
        result = run_scenarios(
            [base, scenario], data_dir=data_dir, until=until, horizon=horizon, seed=seed,
            draws=draws, out=None, fit_options=fit_options(cache_dir),
        )  # fmt: skip
    names = result.projection.names
    table = attribute(result.projection, names[1], base=names[0], year=year)
    if as_json:
        console.print_json(table.to_json(orient="records"))
        return
    out = Table(
        title=f"log(ratio_us_cn) in {year}: {names[1]} vs {names[0]}, Shapley, paired draws"
    )
    for column in ("lever", "mean", "q05", "q50", "q95", "P(>0)"):
        out.add_column(column, justify="left" if column == "lever" else "right")
    for row in table.itertuples():
        out.add_row(
            row.lever, f"{row.mean:+.3f}", f"{row.q05:+.3f}", f"{row.q50:+.3f}",
            f"{row.q95:+.3f}", f"{row.share_positive:.2f}",
        )  # fmt: skip
    console.print(out)
