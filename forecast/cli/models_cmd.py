"""``compute-gap forecast`` and ``compute-gap backtest``: the time-series baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from forecast import bounds
from forecast.cli.common import DataDirOption, OverwriteOption, UntilOption, app, console
from forecast.errors import InputError, OutputError
from forecast.text import plain

if TYPE_CHECKING:
    import pandas as pd

    from forecast.backtest import BacktestResult
    from forecast.data import Dataset

SeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of the predictive draws.", **bounds.SEED.option())
]
#: Column names in the printed backtest tables (the JSON keeps the full names).
SHORT_NAMES = {
    "log_error": "log_err", "coverage_50": "cov50", "coverage_90": "cov90", "crps_skill": "skill",
}  # fmt: skip
HorizonOption = Annotated[
    int, typer.Option("--horizon", help="Years ahead.", **bounds.FORECAST_HORIZON.option())
]


def load_dataset(data_dir: Path | None = None, until: int | None = None) -> Dataset:
    """:func:`forecast.data.load_dataset`, imported when a command runs (pandas loads then)."""
    from forecast.data import load_dataset

    return load_dataset(data_dir, until=until)


def parse_origins(text: str | None) -> list[int] | None:
    """``2019:2023`` (inclusive range), ``2019,2021`` or ``2020``; None stays None.

    Raises
    ------
    InputError
        For other text, years outside :data:`forecast.bounds.YEAR` or too many origins.
    """
    if text is None:
        return None
    try:
        if ":" in text:
            first, last = (int(part) for part in text.split(":"))
            ends = [first, last]
        else:
            ends = [int(part) for part in text.split(",")]
    except ValueError:
        ends = []
    if not ends:
        raise InputError(
            f"--origins {text!r}: expected FIRST:LAST, a comma-separated list or one year"
        )
    for year in ends:
        bounds.YEAR.check(year, "--origins: a year")
    years = list(range(ends[0], ends[1] + 1)) if ":" in text else ends
    bounds.ORIGINS.check(len(years), "--origins: the number of years")
    return years


@app.command("forecast")
def forecast_command(
    series_id: Annotated[str, typer.Argument(help="An annual series id (see `compute-gap data`).")],
    horizon: HorizonOption = 5,
    model: Annotated[
        str, typer.Option("--model", "-m", help="naive, ets, sarimax, ucm or auto.")
    ] = "auto",
    until: UntilOption = None,
    data_dir: DataDirOption = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Also write the table here.")] = None,
    overwrite: OverwriteOption = False,
    fallback: Annotated[
        bool, typer.Option("--fallback", help="Use naive if the series is too short for MODEL.")
    ] = False,
    seed: SeedOption = 0,
) -> None:
    """Forecast one series: mean and quantiles per year."""
    from forecast.backtest import forecast_series
    from forecast.io import clean_stale, write_atomic

    if csv is not None and csv.exists() and not (overwrite and csv.is_file()):
        raise OutputError(
            f"--csv {csv}: exists; pass --overwrite to replace it"
            if csv.is_file()
            else f"--csv {csv}: exists and is not a file"
        )
    dataset = load_dataset(data_dir, until=until)
    frame = forecast_series(dataset, series_id, horizon, model, fallback=fallback, seed=seed)
    title = f"{series_id}: forecast by {frame['model'].iloc[0]}"
    console.print(frame_table(frame.drop(columns=["series_id", "model"]), title))
    if frame.attrs.get("note"):
        console.print(plain(frame.attrs["note"]), highlight=False)
    if csv is not None:
        clean_stale(csv)  # what an interrupted earlier write left beside it
        write_atomic(csv, lambda tmp: frame.to_csv(tmp, index=False))
        console.print(plain(f"wrote {csv}"), highlight=False)


@app.command("backtest")
def backtest_command(
    series: Annotated[
        list[str] | None,
        typer.Option("--series", help="Series to test (repeatable); default: annual, >= 8 values."),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Models (repeatable); default: naive ets sarimax ucm."),
    ] = None,
    origins: Annotated[
        str | None,
        typer.Option("--origins", help="Origin years, e.g. 2019:2023; default: all feasible."),
    ] = None,
    horizon: HorizonOption = 3,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable results.")
    ] = False,
    data_dir: DataDirOption = None,
    seed: SeedOption = 0,
) -> None:
    """Rolling-origin backtest: log error, MASE, coverage and CRPS per series and model."""
    from forecast.backtest import DEFAULT_MODELS, backtest

    result = backtest(
        data_dir, series=series or None, models=model or DEFAULT_MODELS,
        origins=parse_origins(origins), horizon=horizon, seed=seed,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    if result.cases.empty:
        console.print("nothing to score: no origin has later values (see the skipped list)")
    else:
        print_backtest_tables(result)
    for row in result.skipped.itertuples():
        console.print(
            plain(f"skipped {row.series_id} at {row.origin} ({row.model}): {row.reason}"),
            style="dim", highlight=False,
        )  # fmt: skip


def print_backtest_tables(result: BacktestResult) -> None:
    """One table per series (``*`` marks its lowest CRPS), the overall table, the winner."""
    summary = result.summary.rename(columns=SHORT_NAMES)
    summary["best"] = summary["best"].map({True: "*", False: ""})
    for series_id, rows in summary.groupby(level="series_id", sort=False):
        title = f"{series_id}: backtest, horizons 1-{result.horizon}"
        console.print(frame_table(rows.droplevel("series_id").reset_index(), title))
    overall = result.overall.rename(columns=SHORT_NAMES).reset_index()
    console.print(frame_table(overall, "Overall (skill: CRPS skill relative to naive)"))
    best = result.overall["crps_skill"].idxmax()
    console.print(
        f"best overall by CRPS skill: {best} (lowest CRPS on {result.overall.loc[best, 'wins']} "
        f"of {result.overall.loc[best, 'series']} series)"
    )


def frame_table(frame: pd.DataFrame, title: str) -> Table:
    """A compact rich table of ``frame``, floats to 4 significant digits."""
    import pandas as pd

    table = Table(title=plain(title), box=box.SIMPLE_HEAD, pad_edge=False)
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if numeric else "left")
    cells = frame.map(lambda v: f"{v:.4g}" if isinstance(v, float) else str(v))
    for row in cells.itertuples(index=False):
        table.add_row(*map(plain, row))
    return table
