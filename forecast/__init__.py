"""compute-gap: forecast the US-China AI compute gap under export-control scenarios."""

from forecast._version import __version__
from forecast.data import Dataset, load_dataset, validate_dir
from forecast.errors import DataError, ModelError, Problem, ScenarioError
from forecast.periods import Period, parse_period

__all__ = [
    "DataError",
    "Dataset",
    "ModelError",
    "Period",
    "Problem",
    "ScenarioError",
    "__version__",
    "load_dataset",
    "parse_period",
    "validate_dir",
]
