"""The main job: fit (or reuse the cached fit), project scenarios, write tidy results.

``run_scenarios`` is what ``compute-gap run`` and the report call; it writes ``summary.csv``,
``draws.parquet`` and ``manifest.json`` into the output directory as one result set (see
:mod:`forecast.io`): the directory holds the previous complete set or the new one, never a mix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import bounds
from forecast.data import Dataset, load_dataset
from forecast.evaluation import Evaluator, make_manifest
from forecast.io import check_target, result_set
from forecast.projection import Projection, check_draws_dtype, project, resolve_scenarios
from forecast.quantiles import BAND, MEDIAN, quantile_column
from forecast.scenarios import Scenario
from forecast.xlsx import XLSX_FILE, write_xlsx

#: Years of the compact results table.
HEADLINE_YEARS = (2027, 2030, 2035)
HEADLINE_METRICS = ("ratio_us_cn", "years_behind")
#: Columns of :func:`headline_table`: the median and the 90 % interval's ends.
HEADLINE_COLUMNS = (
    "scenario", "metric", "year", quantile_column(BAND[0]), quantile_column(MEDIAN),
    quantile_column(BAND[1]),
)  # fmt: skip
RESULT_FILES = ("summary.csv", "draws.parquet", "manifest.json")


@dataclass(frozen=True)
class RunResult:
    """What one run produced.

    Attributes
    ----------
    dataset : Dataset
    fit : Fit
    projection : Projection
    manifest : dict
        Provenance of the run; ``manifest.json`` holds it plus every file's SHA-256.
    out : pathlib.Path or None
        Directory the files were written to (None when not written).
    """

    dataset: Dataset
    fit: object
    projection: Projection
    manifest: dict
    out: Path | None


def _diagnostics_summary(fit: object) -> dict:
    table = fit.diagnostics()
    return {
        "divergences": int(fit.divergences),
        "max_r_hat": float(np.nanmax(table["r_hat"])),
        "min_ess_bulk": float(np.nanmin(table["ess_bulk"])),
        "min_ess_tail": float(np.nanmin(table["ess_tail"])),
        "passed": bool(fit.passed),
    }


def build_manifest(dataset: Dataset, fit: object, projection: Projection) -> dict:
    """Provenance of a run: versions, data hash, fit settings and diagnostics, scenarios."""
    return make_manifest(
        data={
            "directory": str(dataset.data_dir),
            "sha256": dataset.fingerprint,
            "until": dataset.until,
        },
        fit={"settings": dict(fit.settings), "diagnostics": _diagnostics_summary(fit)},
        seed=projection.seed,
        horizon=projection.horizon,
        draws=projection.n_draws,
        scenarios=[
            {
                "name": s.name,
                "file": str(s.path) if s.path else None,
                "sha256": s.file_hash or None,
                "extends": list(s.chain[1:]),
                "start": s.start,
            }
            for s in projection.scenarios
        ],
    )


def write_tables(projection: Projection, directory: Path, draws_dtype: str = "float64") -> None:
    """Write ``summary.csv`` and ``draws.parquet`` (values as ``draws_dtype``) into
    ``directory`` (a staging directory)."""
    projection.to_csv(directory / "summary.csv")
    projection.to_parquet(directory / "draws.parquet", dtype=draws_dtype)


def result_files(xlsx: bool = False) -> tuple[str, ...]:
    """Files of a run's result set: :data:`RESULT_FILES`, and ``summary.xlsx`` if asked."""
    return (*RESULT_FILES, XLSX_FILE) if xlsx else RESULT_FILES


def write_results(
    projection: Projection,
    manifest: dict,
    out: str | Path,
    *,
    overwrite: bool = False,
    xlsx: bool = False,
    draws_dtype: str = "float64",
) -> Path:
    """Write ``summary.csv``, ``draws.parquet`` and ``manifest.json`` into ``out`` as one set.

    Parameters
    ----------
    projection : Projection
    manifest : dict
        Provenance (:func:`build_manifest`); the SHA-256 of every file is added.
    out : str or pathlib.Path
        Output directory: replaced as a whole if compute-gap wrote it (files of yours in it
        are kept), refused if it holds other files, unless ``overwrite``.
    overwrite : bool
        See :func:`forecast.io.check_target`.
    xlsx : bool
        Also write ``summary.xlsx`` (:func:`forecast.xlsx.write_xlsx`).
    draws_dtype : {"float64", "float32"}
        Storage type of the values in ``draws.parquet`` (see :meth:`Projection.to_parquet`).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OutputError
        If ``out`` cannot be replaced safely.
    """
    with result_set(out, "run", overwrite=overwrite, names=result_files(xlsx)) as staged:
        write_tables(projection, staged.path, draws_dtype)
        if xlsx:
            write_xlsx(projection, manifest, staged.path / XLSX_FILE)
        staged.commit(manifest)
    return Path(out)


def run_scenarios(
    scenarios: Iterable[Scenario | str | Path] | None = None,
    *,
    data_dir: str | Path | None = None,
    until: int | None = None,
    horizon: int = 2035,
    seed: int = 0,
    draws: int | None = None,
    out: str | Path | None = "results",
    overwrite: bool = False,
    fit_options: dict | None = None,
    xlsx: bool = False,
    evaluator: Evaluator | None = None,
    draws_dtype: str = "float64",
) -> RunResult:
    """Load the data, fit (cached), project the scenarios and write the results.

    Parameters
    ----------
    scenarios : iterable of Scenario, name or path, optional
        Default: the whole shipped library.
    data_dir : str or pathlib.Path, optional
        Data directory (default: shipped data).
    until : int, optional
        Data cut-off year.
    horizon : int
        Last projected year.
    seed : int
        One seed for the fit and the projection.
    draws : int, optional
        Posterior draws used in the projection (default: all).
    out : str or pathlib.Path or None
        Output directory (see :func:`write_results`); None writes nothing.
    overwrite : bool
        See :func:`forecast.io.check_target`.
    fit_options : dict, optional
        Passed to :func:`forecast.fit` (``draws``, ``tune``, ``chains``, ``sampler``,
        ``cache_dir``, ``refit``).
    xlsx : bool
        Also write ``summary.xlsx`` into ``out``.
    evaluator : forecast.evaluation.Evaluator, optional
        Where the projection runs (default: in this process); results do not depend on it.
    draws_dtype : {"float64", "float32"}
        Storage type of the values in ``draws.parquet``; float32 halves the file (about 7
        significant digits). Recorded in the manifest.

    Returns
    -------
    RunResult

    Raises
    ------
    DataError, ScenarioError, ModelError
        For bad data, scenarios or arguments (:mod:`forecast.bounds`), before any fitting.
    OutputError
        If ``out`` cannot be replaced safely (checked before fitting, and again at the end).
    """
    from forecast.model import fit as fit_model  # PyMC imports are slow: only when fitting
    from forecast.model.fitting import check_fit_options

    bounds.check_projection(horizon=horizon, draws=draws, seed=seed)
    fit_options = check_fit_options(fit_options)
    check_draws_dtype(draws_dtype)
    if out is not None:
        check_target(out, overwrite=overwrite, names=result_files(xlsx))
    resolved = resolve_scenarios(scenarios)
    dataset = load_dataset(data_dir, until=until)
    fit = fit_model(dataset, seed=seed, **(fit_options or {}))
    projection = project(
        fit, resolved, horizon=horizon, draws=draws, seed=seed, evaluator=evaluator
    )
    manifest = {**build_manifest(dataset, fit, projection), "draws_dtype": draws_dtype}
    written = (
        None
        if out is None
        else write_results(
            projection, manifest, out, overwrite=overwrite, xlsx=xlsx, draws_dtype=draws_dtype
        )
    )
    return RunResult(dataset, fit, projection, manifest, written)


def headline_table(projection: Projection) -> pd.DataFrame:
    """Median and 90 % interval of the headline metrics in 2027, 2030 and 2035, tidy.

    Returns
    -------
    pandas.DataFrame
        :data:`HEADLINE_COLUMNS`: one row per scenario (projection order), metric
        (:data:`HEADLINE_METRICS` order) and year (:data:`HEADLINE_YEARS` within the
        projection), with the 5 %, 50 % and 95 % quantiles over the posterior draws.
    """
    summary = projection.summary()
    years = [y for y in HEADLINE_YEARS if y in projection.years]
    rows = summary[summary["metric"].isin(HEADLINE_METRICS) & summary["year"].isin(years)]
    order = rows.assign(
        _scenario=rows["scenario"].map({n: i for i, n in enumerate(projection.names)}),
        _metric=rows["metric"].map({m: i for i, m in enumerate(HEADLINE_METRICS)}),
    ).sort_values(["_scenario", "_metric", "year"])
    return order[list(HEADLINE_COLUMNS)].reset_index(drop=True)
