"""The report: figures, a self-contained HTML page and Markdown, written as one directory.

:func:`report` is the main job (``compute-gap report``): fit (or reuse the cached fit), project
the scenarios, run a quick baseline backtest, then write into ``out``::

    report.html   self-contained: figures embedded, no external URL, no JavaScript
    report.md     the same content, figures as files
    figures/      PNG and SVG of every figure
    summary.csv, draws.parquet, manifest.json   as ``compute-gap run`` writes them
    summary.xlsx  the summary as a workbook (as ``compute-gap run --xlsx``)

The directory is one result set (see :mod:`forecast.io`): built beside ``out`` and swapped
into place only when complete, with every file's SHA-256 in ``manifest.json``.
:func:`write_report` does the writing from plain inputs (no fit needed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from forecast import bounds
from forecast.data import Dataset
from forecast.evaluation import Evaluator
from forecast.io import check_target, result_set
from forecast.report.content import TITLE, FigureSpec, ReportInputs, document, figure_specs
from forecast.report.figures import (
    DPI,
    plot_additions,
    plot_coverage,
    plot_fan,
    plot_stocks,
)
from forecast.report.render import to_html, to_markdown
from forecast.runner import RESULT_FILES, run_scenarios, write_tables
from forecast.scenarios import Scenario
from forecast.xlsx import XLSX_FILE, write_xlsx

__all__ = [
    "REPORT_FILES",
    "ReportInputs",
    "plot_additions",
    "plot_coverage",
    "plot_fan",
    "plot_stocks",
    "quick_backtest",
    "report",
    "write_report",
]

#: What a report directory holds.
REPORT_FILES = ("report.html", "report.md", "figures", *RESULT_FILES, XLSX_FILE)
#: The quick backtest behind the coverage chart: models, origin years, horizon.
BACKTEST_MODELS = ("naive", "ets")
BACKTEST_ORIGINS = range(2019, 2024)
BACKTEST_HORIZON = 3


class Steps:
    """Progress of the long steps on stderr (rich): a spinner and the time each takes.

    Parameters
    ----------
    quiet : bool
        Print nothing.
    """

    def __init__(self, quiet: bool = False) -> None:
        self.console = Console(stderr=True, quiet=quiet)

    @contextlib.contextmanager
    def __call__(self, what: str) -> Iterator[None]:
        """Show ``what`` with a spinner and the elapsed time while the block runs."""
        columns = (SpinnerColumn(finished_text="[green]done[/]"), TextColumn("{task.description}"),
                   TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=self.console) as progress:
            task = progress.add_task(what, total=1)
            yield
            progress.update(task, completed=1)


def _write_figures(specs: list[FigureSpec], directory: Path) -> dict[str, bytes]:
    """Save every figure as PNG and SVG; return the PNG bytes by name."""
    directory.mkdir()
    images = {}
    with mpl.rc_context({"svg.hashsalt": "compute-gap", "svg.fonttype": "path"}):
        for spec in specs:
            fig = spec.draw()
            png = directory / f"{spec.name}.png"
            fig.savefig(png, dpi=DPI, metadata={"Software": None})
            fig.set_layout_engine("none")  # keep the PNG's layout; skip recomputing it
            fig.savefig(directory / f"{spec.name}.svg", metadata={"Date": None})
            images[spec.name] = png.read_bytes()
    return images


def write_report(
    inputs: ReportInputs,
    out: str | Path,
    *,
    steps: Steps | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a complete report directory from plain inputs, as one result set.

    Parameters
    ----------
    inputs : ReportInputs
        Projection, dataset, manifest and (optionally) diagnostics and backtest cases.
    out : str or pathlib.Path
        The report directory: replaced as a whole if compute-gap wrote it (files of yours in
        it are kept), refused if it holds other files, unless ``overwrite``.
    steps : Steps, optional
        Progress display (default: silent).
    overwrite : bool
        See :func:`forecast.io.check_target`.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    OutputError
        If ``out`` cannot be replaced safely.
    """
    steps = steps or Steps(quiet=True)
    with result_set(out, "report", overwrite=overwrite, names=REPORT_FILES) as staged:
        tmp = staged.path
        with steps(f"Writing {', '.join((*RESULT_FILES, XLSX_FILE))}"):
            write_tables(inputs.projection, tmp, inputs.manifest.get("draws_dtype", "float64"))
            write_xlsx(inputs.projection, inputs.manifest, tmp / XLSX_FILE)
        specs = figure_specs(inputs)
        with steps(f"Drawing {len(specs)} figures (PNG and SVG)"):
            images = _write_figures(specs, tmp / "figures")
        with steps("Rendering report.html and report.md"):
            blocks = document(inputs, specs)
            (tmp / "report.html").write_text(to_html(blocks, images, TITLE), encoding="utf-8")
            (tmp / "report.md").write_text(to_markdown(blocks), encoding="utf-8")
        staged.commit(inputs.manifest)
    return Path(out)


def quick_backtest(dataset: Dataset, seed: int = 0) -> tuple[pd.DataFrame | None, str]:
    """A cheap baseline backtest for the coverage chart.

    :data:`BACKTEST_MODELS` on every backtestable yearly series, origins
    :data:`BACKTEST_ORIGINS` (before the data cut-off), horizons 1 to :data:`BACKTEST_HORIZON`.

    Returns
    -------
    (pandas.DataFrame or None, str)
        The scored forecasts (``BacktestResult.cases``; None if no series qualifies) and a
        sentence saying what was backtested.
    """
    from forecast.backtest import backtest, backtestable_series

    series = backtestable_series(dataset)
    origins = [o for o in BACKTEST_ORIGINS if dataset.until is None or o < dataset.until]
    if not series or not origins:
        return None, ""
    result = backtest(dataset, series, BACKTEST_MODELS, origins, BACKTEST_HORIZON, seed=seed)
    note = (
        f"Baselines {', '.join(BACKTEST_MODELS)} on {len(series)} yearly series, origins "
        f"{origins[0]}-{origins[-1]}, horizons 1-{BACKTEST_HORIZON} years"
    )
    return result.cases, note


def _fit_note(fit: object) -> str:
    """Where the posterior came from and how long that took."""
    how = "loaded from the cache" if fit.from_cache else "sampled"
    return f"Posterior {how} in {fit.seconds:.0f} s ({fit.cache_path})."


def report(
    scenarios: Iterable[Scenario | str | Path] | None = None,
    *,
    out: str | Path = "reports/latest",
    data_dir: str | Path | None = None,
    until: int | None = None,
    seed: int = 0,
    horizon: int = 2035,
    draws: int | None = None,
    quiet: bool = False,
    overwrite: bool = False,
    fit_options: dict | None = None,
    evaluator: Evaluator | None = None,
    draws_dtype: str = "float64",
) -> Path:
    """Fit (or reuse the cached fit), project the scenarios and write the report directory.

    Parameters
    ----------
    scenarios : iterable of Scenario, name or path, optional
        Default: the whole shipped library.
    out : str or pathlib.Path
        Report directory; an earlier report there is replaced once the new one is complete
        (see :func:`write_report`).
    data_dir : str or pathlib.Path, optional
        Data directory (default: shipped data).
    until : int, optional
        Data cut-off year.
    seed : int
        One seed for the fit, the projection and the backtest.
    horizon : int
        Last projected year.
    draws : int, optional
        Posterior draws projected (default: all).
    quiet : bool
        No progress output.
    overwrite : bool
        See :func:`forecast.io.check_target`.
    fit_options : dict, optional
        Passed to :func:`forecast.model.fit` (``cache_dir``, ``draws``, ``chains``, ...).
    evaluator : forecast.evaluation.Evaluator, optional
        Where the projection runs (default: in this process); results do not depend on it.
    draws_dtype : {"float64", "float32"}
        Storage type of the values in ``draws.parquet`` (see :func:`forecast.run_scenarios`).

    Returns
    -------
    pathlib.Path
        The report directory (``report.html`` is inside).

    Raises
    ------
    DataError, ScenarioError, ModelError
        For bad data, scenarios or arguments, before any fitting.
    OutputError
        If ``out`` cannot be replaced safely (checked before the long steps).
    """
    bounds.check_projection(horizon=horizon, draws=draws, seed=seed)
    check_target(out, overwrite=overwrite, names=REPORT_FILES)  # fail before the long steps
    steps = Steps(quiet)
    with steps("Fitting (or loading the cached fit) and projecting"):
        run = run_scenarios(
            scenarios, data_dir=data_dir, until=until, horizon=horizon, seed=seed, draws=draws,
            out=None, fit_options=fit_options, evaluator=evaluator, draws_dtype=draws_dtype,
        )  # fmt: skip
    with steps("Backtesting baselines for the coverage chart"):
        cases, note = quick_backtest(run.dataset, seed)
    inputs = ReportInputs(
        run.projection, run.dataset, run.manifest, diagnostics=run.fit.diagnostics(),
        backtest=cases, backtest_note=note, cutoff=int(run.fit.design.years[-1]),
        fit_note=_fit_note(run.fit),
    )  # fmt: skip
    return write_report(inputs, out, steps=steps, overwrite=overwrite)
