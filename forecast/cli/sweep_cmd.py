"""``compute-gap sweep``: Sobol sensitivity and PRIM scenario discovery over a lever sweep."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from forecast import bounds
from forecast.cli.common import (
    EXIT_BAD_INPUT,
    CacheOption,
    DataDirOption,
    OverwriteOption,
    SeedOption,
    UntilOption,
    app,
    console,
    err_console,
    fit_options,
    print_error,
)
from forecast.errors import FitError
from forecast.interrupt import Interrupted
from forecast.text import child_path, escaped, plain

if TYPE_CHECKING:  # forecast.sweeps imports Dask: only when a sweep runs
    import pandas as pd

    from forecast.sweeps import SweepResult

#: Levers named as mattering most for each outcome.
TOP_LEVERS = 3
#: PRIM restrictions with a quasi-p value above this are listed as not significant.
QP_SIGNIFICANT = 0.05


def load_fit(data_dir: Path | None, until: int | None, seed: int, cache_dir: Path | None) -> object:
    """The cached fit on the (shipped) data, fitting it first if needed."""
    from forecast.data import load_dataset

    try:
        from forecast.model import fit  # PyMC imports are slow: only when sweeping
    except ImportError as err:
        raise FitError(f"sweeps project posterior draws, but the model is missing: {err}") from None
    dataset = load_dataset(data_dir, until=until)
    return fit(dataset, seed=seed, **fit_options(cache_dir))


def sobol_table(indices: pd.DataFrame) -> Table:
    """Rich table of Sobol indices, most influential lever first within each outcome."""
    table = Table(title="Sobol indices of the posterior median (± 95 % bootstrap half-width)")
    for column in ("outcome", "lever", "S1", "ST"):
        table.add_column(column, justify="left" if column in ("outcome", "lever") else "right")
    ordered = indices.sort_values(["outcome", "ST"], ascending=[True, False], kind="stable")
    for row in ordered.itertuples():
        table.add_row(
            row.outcome, row.lever, f"{row.S1:.3f} ± {row.S1_conf:.3f}",
            f"{row.ST:.3f} ± {row.ST_conf:.3f}",
        )  # fmt: skip
    return table


def top_levers(indices: pd.DataFrame, outcome: str) -> list[str]:
    """The levers with the largest total index for ``outcome``."""
    rows = indices[indices["outcome"] == outcome].nlargest(TOP_LEVERS, "ST")
    return rows["lever"].tolist()


def prim_report(box: pd.DataFrame) -> list[str | Table]:
    """One PRIM box: its statistics and a table of its significant lever restrictions."""
    first = box.iloc[0]
    head = (
        f"[bold]{first.condition}[/]: coverage {first.coverage:.2f}, density "
        f"{first.density:.2f}, mass {first.mass:.2f}"
    )
    significant = box[box["restricted"] & (box["qp"] < QP_SIGNIFICANT)].sort_values("qp")
    if significant.empty:
        return [head, "  no box reaches the density threshold with a significant restriction"]
    table = Table()
    for column in ("lever", "low", "high", "quasi-p"):
        table.add_column(column, justify="left" if column == "lever" else "right")
    for row in significant.itertuples():
        table.add_row(row.lever, f"{row.low:.4g}", f"{row.high:.4g}", f"{row.qp:.1e}")
    others = int(box["restricted"].sum()) - len(significant)
    if others:
        table.caption = f"{others} more lever(s) restricted with quasi-p >= {QP_SIGNIFICANT}"
    return [head, table]


@app.command("sweep")
def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (scenarios/sweeps/NAME.toml).")],
    samples: Annotated[
        int,
        typer.Option(
            "--samples", help="Base samples N (Sobol: a power of 2).", **bounds.SAMPLES.option()
        ),
    ] = 1024,
    method: Annotated[str, typer.Option("--method", help="Design: sobol or lhs.")] = "sobol",
    draws: Annotated[
        int, typer.Option("--draws", help="Posterior draws per sample.", **bounds.DRAWS.option())
    ] = 200,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://...).")
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="LocalCluster workers.", **bounds.WORKERS.option())
    ] = 2,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default results/sweep-NAME).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted sweep in --out.")
    ] = False,
    overwrite: OverwriteOption = False,
    keep_draws: Annotated[
        bool, typer.Option("--keep-draws", help="Store every posterior draw, not only summaries.")
    ] = False,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", help="Samples per task.", **bounds.CHUNK_SIZE.option())
    ] = 256,
    seed: SeedOption = 0,
    data_dir: DataDirOption = None,
    until: UntilOption = None,
    cache_dir: CacheOption = None,
) -> None:
    """Sample a sweep's levers, project every sample on Dask, print Sobol indices and PRIM boxes."""
    from rich.progress import Progress

    from forecast.io import check_target
    from forecast.sweeps import load_sweep, sweep
    from forecast.sweeps.analysis import design_rows
    from forecast.sweeps.store import partial_dir

    spec = load_sweep(sweep_file)
    try:
        design_rows(spec.problem, samples, method)
    except ValueError as err:
        print_error(f"--samples/--method: {err}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    out = out or child_path("results", f"sweep-{spec.name}")
    check_target(out, overwrite=overwrite)  # before the fit, not after it
    fit = load_fit(data_dir, until, seed, cache_dir)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(escaped(f"sweep {spec.name}"), total=None)
        try:
            result = sweep(
                spec, fit, samples=samples, method=method, draws=draws, seed=seed, out=out,
                resume=resume, overwrite=overwrite, client=scheduler, workers=workers,
                chunk_size=chunk_size, store_draws=keep_draws,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
        except Interrupted as stop:
            kept = partial_dir(out)
            err_console.print(plain(f"interrupted: finished chunks are kept in {kept}; rerun "
                                    "with --resume"), highlight=False)  # fmt: skip
            raise typer.Exit(stop.exit_code) from None
    _report(result)


def _report(result: SweepResult) -> None:
    """Analyse a finished sweep, print the Sobol table and PRIM boxes, say what was written."""
    sobol, boxes = result.analyse()
    manifest = result.manifest
    console.print(
        f"{manifest['rows']} samples x {manifest['draws']} draws x "
        f"{manifest['years'][1] - manifest['years'][0] + 1} years ({manifest['method']})"
    )
    if sobol is not None:
        console.print(sobol_table(sobol))
        for outcome in result.spec.outcomes:
            levers = ", ".join(top_levers(sobol, outcome.name))
            console.print(f"levers that matter most for {outcome.name}: {levers}")
    for _, box in boxes.groupby("condition", sort=False):
        for part in prim_report(box):
            console.print(part)
    written = [result.out / "results", result.out / "prim.csv"]
    written += [result.out / "sobol.csv"] if sobol is not None else []
    console.print(plain(f"wrote {', '.join(map(str, written))}"), highlight=False)
