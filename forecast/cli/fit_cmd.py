"""``compute-gap fit``: fit the Bayesian stock-flow model (or load the cached fit)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from forecast import bounds
from forecast.cli.common import DataDirOption, UntilOption, app, console, err_console
from forecast.text import plain

#: Exit code of a fit that misses the diagnostic gate.
EXIT_GATE = 3
#: The year whose stocks are printed (or the last fitted year, if earlier).
REPORT_YEAR = 2025


@app.command("fit")
def fit_command(
    data_dir: DataDirOption = None,
    until: UntilOption = None,
    draws: Annotated[
        int, typer.Option("--draws", help="Draws kept per chain.", **bounds.FIT_DRAWS.option())
    ] = 1000,
    tune: Annotated[
        int, typer.Option("--tune", help="Tuning steps per chain.", **bounds.TUNE.option())
    ] = 1000,
    chains: Annotated[
        int, typer.Option("--chains", help="Number of chains.", **bounds.CHAINS.option())
    ] = 4,
    sampler: Annotated[
        str | None, typer.Option("--sampler", help="pymc, nutpie or numpyro (default: numpyro).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.", **bounds.SEED.option())] = 0,
    refit: Annotated[bool, typer.Option("--refit", help="Ignore the cache and sample.")] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Cache directory (default: $COMPUTE_GAP_CACHE or ~/.cache/compute-gap).",
        ),
    ] = None,
) -> None:
    """Fit the model; print diagnostics, the last year's stocks and the cache file."""
    from forecast.data import load_dataset
    from forecast.model import DEFAULT_SAMPLER, fit
    from forecast.model.cache import CacheWarning
    from forecast.model.fitting import FitWarning

    dataset = load_dataset(data_dir, until=until)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FitWarning)
        warnings.simplefilter("always", CacheWarning)
        result = fit(
            dataset, draws=draws, tune=tune, chains=chains, seed=seed,
            sampler=sampler or DEFAULT_SAMPLER, refit=refit, cache_dir=cache_dir,
        )  # fmt: skip
    console.print(diagnostics_table(result))
    console.print(stocks_table(result))
    source = "loaded from" if result.from_cache else "saved to"
    console.print(
        plain(f"posterior {source} {result.cache_path} ({result.seconds:.1f} s)"), highlight=False
    )
    for warning in caught:  # a refitted damaged cache file, a missed gate
        if issubclass(warning.category, FitWarning | CacheWarning):
            err_console.print("[bold red]warning:[/]", plain(warning.message), highlight=False)
    if not result.passed:
        raise typer.Exit(EXIT_GATE)


def diagnostics_table(result) -> Table:
    """Worst R-hat and ESS per parameter group, and the divergences."""
    table = result.diagnostics()
    table["group"] = table["parameter"].str.replace(r"\[.*\]$", "", regex=True)
    worst = table.groupby("group", sort=False).agg(
        n=("parameter", "size"), r_hat=("r_hat", "max"), ess_bulk=("ess_bulk", "min"),
        ess_tail=("ess_tail", "min"),
    )  # fmt: skip
    out = Table(title=f"diagnostics ({result.divergences} divergences; gate: 0, r_hat <= 1.01, "
                "ess_bulk >= 400)")  # fmt: skip
    for column in ("parameter", "n", "max r_hat", "min ess_bulk", "min ess_tail"):
        out.add_column(column, justify="left" if column == "parameter" else "right")
    for group, row in worst.iterrows():
        out.add_row(group, str(int(row.n)), f"{row.r_hat:.3f}", f"{row.ess_bulk:.0f}",
                    f"{row.ess_tail:.0f}")  # fmt: skip
    return out


def stocks_table(result) -> Table:
    """Posterior stocks (H100e) by country and channel in the report year."""
    frame = result.stocks_flows()
    year = min(REPORT_YEAR, int(frame["year"].max()))
    rows = frame[(frame["year"] == year) & (frame["measure"] == "stock")]
    out = Table(title=f"posterior stocks at the end of {year} (H100e)")
    for column in ("country", "channel", "median", "q05", "q95"):
        out.add_column(column, justify="left" if column in ("country", "channel") else "right")
    for row in rows.itertuples():
        out.add_row(row.country, row.channel, f"{row.q50:,.0f}", f"{row.q05:,.0f}",
                    f"{row.q95:,.0f}")  # fmt: skip
    return out
