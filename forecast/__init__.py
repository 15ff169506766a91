"""compute-gap: forecast the US-China AI compute gap under export-control scenarios."""

from forecast._version import __version__
from forecast.attribution import attribute
from forecast.backtest import BacktestResult, backtest
from forecast.baselines import (
    MODELS,
    Forecaster,
    Predictive,
    TooShortError,
    forecast_series,
    get_forecaster,
)
from forecast.data import Dataset, load_dataset, validate_dir
from forecast.errors import (
    ComputeGapError,
    DataError,
    InputError,
    ModelError,
    OutputError,
    Problem,
    ScenarioError,
)
from forecast.periods import Period, parse_period
from forecast.projection import Projection, project
from forecast.report import plot_additions, plot_coverage, plot_fan, plot_stocks, report
from forecast.runner import RunResult, run_scenarios
from forecast.scenarios import Scenario, list_scenarios, load_scenario, scenario_from_dict

__all__ = [
    "MODELS",
    "BacktestResult",
    "ComputeGapError",
    "DataError",
    "Dataset",
    "Fit",
    "Forecaster",
    "InputError",
    "ModelError",
    "OutputError",
    "Period",
    "Predictive",
    "Problem",
    "Projection",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SweepResult",
    "TooShortError",
    "__version__",
    "attribute",
    "backtest",
    "fit",
    "forecast_series",
    "get_forecaster",
    "list_scenarios",
    "load_dataset",
    "load_scenario",
    "parse_period",
    "plot_additions",
    "plot_coverage",
    "plot_fan",
    "plot_stocks",
    "project",
    "report",
    "run_scenarios",
    "scenario_from_dict",
    "sweep",
    "validate_dir",
]


def __getattr__(name: str) -> object:
    """``sweep``/``SweepResult`` (optional [sweep] extra) and ``fit``/``Fit`` (PyMC, slow to
    import) load on first use."""
    if name in ("fit", "Fit"):
        from forecast import model

        return getattr(model, name)
    if name in ("sweep", "SweepResult"):
        from forecast import sweeps

        return getattr(sweeps, name)
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")
