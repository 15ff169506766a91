"""The main job: fit (or reuse the cached fit), project scenarios, write tidy results.

``run_scenarios`` is what ``compute-gap run`` and the report call; it writes ``summary.csv``,
``draws.parquet`` and ``manifest.json`` into the output directory, each atomically.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast._version import __version__
from forecast.data import Dataset, load_dataset
from forecast.io import write_atomic
from forecast.projection import Projection, project
from forecast.scenarios import Scenario

#: Years of the compact results table.
HEADLINE_YEARS = (2027, 2030, 2035)
HEADLINE_METRICS = ("ratio_us_cn", "years_behind")
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
        Also written as ``manifest.json``.
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
    return {
        "package": "compute-gap",
        "version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": {
            "directory": str(dataset.data_dir),
            "sha256": dataset.fingerprint,
            "until": dataset.until,
        },
        "fit": {"settings": dict(fit.settings), "diagnostics": _diagnostics_summary(fit)},
        "seed": projection.seed,
        "horizon": projection.horizon,
        "draws": projection.n_draws,
        "scenarios": [
            {
                "name": s.name,
                "file": str(s.path) if s.path else None,
                "sha256": s.file_hash or None,
                "extends": list(s.chain[1:]),
                "start": s.start,
            }
            for s in projection.scenarios
        ],
    }


def write_results(projection: Projection, manifest: dict, out: str | Path) -> Path:
    """Write ``summary.csv``, ``draws.parquet`` and ``manifest.json`` atomically into ``out``."""
    out = Path(out)
    projection.to_csv(out / "summary.csv")
    projection.to_parquet(out / "draws.parquet")
    write_atomic(
        out / "manifest.json",
        lambda tmp: tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8"),
    )
    return out


def run_scenarios(
    scenarios: Iterable[Scenario | str | Path] | None = None,
    *,
    data_dir: str | Path | None = None,
    until: int | None = None,
    horizon: int = 2035,
    seed: int = 0,
    draws: int | None = None,
    out: str | Path | None = "results",
    fit_options: dict | None = None,
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
        Output directory; None writes nothing.
    fit_options : dict, optional
        Passed to :func:`forecast.fit` (``draws``, ``tune``, ``chains``, ``sampler``,
        ``cache_dir``, ``refit``).

    Returns
    -------
    RunResult
    """
    from forecast.model import fit as fit_model  # PyMC imports are slow: only when fitting

    dataset = load_dataset(data_dir, until=until)
    fit = fit_model(dataset, seed=seed, **(fit_options or {}))
    projection = project(fit, scenarios, horizon=horizon, draws=draws, seed=seed)
    manifest = build_manifest(dataset, fit, projection)
    written = write_results(projection, manifest, out) if out is not None else None
    return RunResult(dataset, fit, projection, manifest, written)


def headline_table(projection: Projection) -> list[dict]:
    """Median and 90 % interval of the headline metrics in 2027, 2030 and 2035 per scenario."""
    summary = projection.summary()
    rows = []
    years = [y for y in HEADLINE_YEARS if y in projection.years]
    for name in projection.names:
        row: dict = {"scenario": name}
        for metric in HEADLINE_METRICS:
            for year in years:
                cell = summary[
                    (summary["scenario"] == name)
                    & (summary["metric"] == metric)
                    & (summary["year"] == year)
                ].iloc[0]
                row[f"{metric} {year}"] = (cell["q50"], cell["q05"], cell["q95"])
        rows.append(row)
    return rows
