"""``compute-gap data``: show or validate the dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forecast.cli.common import (
    EXIT_BAD_INPUT,
    DataDirOption,
    UntilOption,
    app,
    console,
    print_problems,
)
from forecast.errors import DataError
from forecast.text import plain


@app.command("data")
def data_command(
    data_dir: DataDirOption = None,
    until: UntilOption = None,
    check: Annotated[
        Path | None,
        typer.Option(
            "--check", help="Validate DIR, list every problem; exit 0 if clean, 2 if not."
        ),
    ] = None,
) -> None:
    """Show the series in the dataset (or validate a directory with --check)."""
    from forecast.data import load_dataset, validate_dir

    if check is not None:
        problems = validate_dir(check)
        if problems:
            print_problems(DataError(problems))
            raise typer.Exit(EXIT_BAD_INPUT)
        console.print(plain(f"{check}: no problems found"), style="green", highlight=False)
        return
    dataset = load_dataset(data_dir, until=until)
    console.print(series_table(dataset))
    console.print(
        plain(
            f"{len(dataset.series)} series, {len(dataset.observations)} observations, "
            f"{len(dataset.sources)} sources, {len(dataset.events)} events, "
            f"{len(dataset.chips)} chips  (data: {dataset.data_dir})"
        ),
        highlight=False,
    )


def series_table(dataset) -> Table:
    """A rich table: one row per series with its span, count and source ids."""
    from forecast.periods import parse_period

    table = Table(title="compute-gap dataset", show_lines=False)
    for column in ("series_id", "country", "unit", "first", "last", "n", "sources"):
        table.add_column(column, justify="right" if column == "n" else "left")
    obs = dataset.observations.assign(
        _t=dataset.observations["period"].map(lambda p: parse_period(p).decimal_year)
    ).sort_values("_t")
    grouped = obs.groupby("series_id", sort=False)
    for row in dataset.series.sort_values(["country", "series_id"]).itertuples():
        if row.series_id not in grouped.groups:
            table.add_row(row.series_id, row.country, row.unit, "-", "-", "0", "")
            continue
        group = grouped.get_group(row.series_id)
        sources = ", ".join(sorted(set(group["source_id"])))
        table.add_row(
            row.series_id, row.country, row.unit, group["period"].iloc[0],
            group["period"].iloc[-1], str(len(group)), plain(sources),
        )  # fmt: skip
    return table
