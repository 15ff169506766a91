"""compute-gap: forecast the US-China AI compute gap under export-control scenarios."""

from forecast._version import __version__
from forecast.data import Dataset, load_dataset, validate_dir
from forecast.errors import DataError, ModelError, Problem, ScenarioError
from forecast.periods import Period, parse_period
from forecast.projection import Projection, project
from forecast.runner import RunResult, run_scenarios
from forecast.scenarios import Scenario, list_scenarios, load_scenario, scenario_from_dict

__all__ = [
    "DataError",
    "Dataset",
    "ModelError",
    "Period",
    "Problem",
    "Projection",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "list_scenarios",
    "load_dataset",
    "load_scenario",
    "parse_period",
    "project",
    "run_scenarios",
    "scenario_from_dict",
    "validate_dir",
]
