"""compute-gap: forecast the US-China AI compute gap under export-control scenarios.

Every public name loads on first use (PEP 562), so ``import forecast`` and the command line
start fast: pandas, PyMC, matplotlib, statsmodels and Dask load only in the calls that need
them. ``from forecast import project`` works as before.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

from forecast._version import __version__

#: Public name -> the module that defines it.
_LAZY = {
    "attribute": "forecast.attribution",
    "BacktestResult": "forecast.backtest",
    "backtest": "forecast.backtest",
    "MODELS": "forecast.registry",
    "Forecaster": "forecast.baselines",
    "Predictive": "forecast.baselines",
    "TooShortError": "forecast.baselines",
    "forecast_series": "forecast.backtest",
    "get_forecaster": "forecast.registry",
    "Dataset": "forecast.data",
    "load_dataset": "forecast.data",
    "validate_dir": "forecast.data",
    "ComputeGapError": "forecast.errors",
    "DataError": "forecast.errors",
    "FitError": "forecast.errors",
    "InputError": "forecast.errors",
    "ModelError": "forecast.errors",
    "OutputError": "forecast.errors",
    "Problem": "forecast.errors",
    "ScenarioError": "forecast.errors",
    "DaskEvaluator": "forecast.evaluation",
    "InProcessEvaluator": "forecast.evaluation",
    "UsageError": "forecast.errors",
    "Fit": "forecast.model",
    "fit": "forecast.model",
    "StockFlowModel": "forecast.model",
    "Period": "forecast.periods",
    "parse_period": "forecast.periods",
    "Prior": "forecast.priors",
    "Projection": "forecast.projection",
    "project": "forecast.projection",
    "plot_additions": "forecast.report",
    "plot_coverage": "forecast.report",
    "plot_fan": "forecast.report",
    "plot_stocks": "forecast.report",
    "report": "forecast.report",
    "RunResult": "forecast.runner",
    "run_scenarios": "forecast.runner",
    "Scenario": "forecast.scenarios",
    "list_scenarios": "forecast.scenarios",
    "load_scenario": "forecast.scenarios",
    "scenario_from_dict": "forecast.scenarios",
    "SweepResult": "forecast.sweeps",
    "sweep": "forecast.sweeps",
}

#: Looked up afresh on every use, as they always were: patching ``forecast.model.fit`` (the
#: tests' synthetic fit) shows in ``forecast.fit`` too. The other names are kept once loaded.
_LIVE = frozenset({"Fit", "fit", "SweepResult", "sweep"})

__all__ = [
    "MODELS",
    "BacktestResult",
    "ComputeGapError",
    "DaskEvaluator",
    "DataError",
    "Dataset",
    "Fit",
    "FitError",
    "Forecaster",
    "InProcessEvaluator",
    "InputError",
    "ModelError",
    "OutputError",
    "Period",
    "Predictive",
    "Prior",
    "Problem",
    "Projection",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "StockFlowModel",
    "SweepResult",
    "TooShortError",
    "UsageError",
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

if TYPE_CHECKING:  # what type checkers and editors see; nothing here runs
    from forecast.attribution import attribute
    from forecast.backtest import BacktestResult, backtest, forecast_series
    from forecast.baselines import Forecaster, Predictive, TooShortError
    from forecast.data import Dataset, load_dataset, validate_dir
    from forecast.errors import (
        ComputeGapError,
        DataError,
        FitError,
        InputError,
        ModelError,
        OutputError,
        Problem,
        ScenarioError,
        UsageError,
    )
    from forecast.evaluation import DaskEvaluator, InProcessEvaluator
    from forecast.model import Fit, StockFlowModel, fit
    from forecast.periods import Period, parse_period
    from forecast.priors import Prior
    from forecast.projection import Projection, project
    from forecast.registry import MODELS, get_forecaster
    from forecast.report import plot_additions, plot_coverage, plot_fan, plot_stocks, report
    from forecast.runner import RunResult, run_scenarios
    from forecast.scenarios import Scenario, list_scenarios, load_scenario, scenario_from_dict
    from forecast.sweeps import SweepResult, sweep


def __getattr__(name: str) -> object:
    """A public name: load its module on first use and keep the name here. A submodule
    (``forecast.data``): import it, as the eager imports of earlier versions had."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        if name not in _LIVE:
            globals()[name] = value
        return value
    if not name.startswith("__"):
        from importlib.util import find_spec

        if find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(types.ModuleType):
    """``forecast.backtest`` and ``forecast.report`` name functions, as they always have,
    although ``forecast/backtest.py`` and ``forecast/report/`` are modules too: importing
    such a module does not replace the function's name here (``sys.modules`` has it)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
