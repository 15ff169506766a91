"""A full report without fitting: a synthetic projection, a stand-in fit, hostile texts."""

from __future__ import annotations

from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pandas as pd

import forecast
from forecast.projection import Projection
from forecast.report import ReportInputs
from forecast.runner import build_manifest
from forecast.scenarios import scenario_from_dict
from tests.helpers.synthetic import synthetic_inputs

EVIL = '<script>alert("x")</script> & <b>bold</b>'
#: A scenario whose name, description and rationale carry HTML and a URL.
EVIL_SCENARIO = {
    "name": "evil<img src=x onerror=alert(1)>",
    "description": f"Description with {EVIL}",
    "extends": "tighten",
    "levers": {"leakage": 0.2},
    "rationale": {"leakage": f"See https://example.org/leak?a=1&b=2 and {EVIL}"},
}


class FakeFit:
    """Stand-in for ``forecast.model.Fit``: settings and diagnostics, no posterior."""

    divergences = 0
    passed = True
    from_cache = True
    seconds = 1.0
    cache_path = None
    design = SimpleNamespace(years=np.arange(2015, 2026))
    settings: ClassVar[dict] = {"sampler": "nuts", "draws": 500, "chains": 4, "note": EVIL}

    def diagnostics(self) -> pd.DataFrame:
        """A diagnostics table with one parameter whose name carries HTML."""
        n = 20
        return pd.DataFrame(
            {
                "parameter": [f"theta[{i}]" for i in range(n - 1)] + [EVIL],
                "r_hat": np.linspace(1.0, 1.01, n),
                "ess_bulk": np.linspace(400, 2000, n),
                "ess_tail": np.linspace(300, 1800, n),
            }
        )


def synthetic_cases(seed: int = 0) -> pd.DataFrame:
    """Backtest cases like ``BacktestResult.cases`` (only the columns the report reads)."""
    rng = np.random.default_rng(seed)
    n = 30
    return pd.DataFrame(
        {
            "series_id": np.tile(["s_a", "s_b", "s_c"], 2 * n // 3),
            "model": np.repeat(["naive", "ets"], n),
            "in50": rng.random(2 * n) < 0.5,
            "in90": rng.random(2 * n) < 0.85,
        }
    )


def synthetic_projection(scenarios: list | None = None, n_draws: int = 100) -> Projection:
    """The shipped library (or ``scenarios``) projected on synthetic inputs, seed 0."""
    return forecast.project(synthetic_inputs(n_draws=n_draws), scenarios, seed=0)


def report_inputs(projection: Projection, dataset: forecast.Dataset) -> ReportInputs:
    """Inputs of a full report built without fitting."""
    fit = FakeFit()
    return ReportInputs(
        projection, dataset, build_manifest(dataset, fit, projection), fit.diagnostics(),
        synthetic_cases(), "synthetic backtest", cutoff=2025,
    )  # fmt: skip


def with_evil(scenarios: list) -> list:
    """The scenarios plus one whose texts carry HTML."""
    return [*scenarios, scenario_from_dict(EVIL_SCENARIO)]
