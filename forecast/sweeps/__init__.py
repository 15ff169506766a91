"""Exploration at scale: lever sweeps, Sobol sensitivity and PRIM scenario discovery on Dask.

``load_sweep`` reads a sweep file (``scenarios/sweeps/*.toml``), :func:`sweep` samples its
lever space and projects every sample on a Dask cluster into partitioned Parquet, and the
returned :class:`SweepResult` gives Sobol indices and PRIM boxes.
"""

from forecast.sweeps.result import SweepResult
from forecast.sweeps.run import sweep
from forecast.sweeps.spec import Condition, Outcome, SweepSpec, load_sweep, sweep_from_dict

__all__ = [
    "Condition",
    "Outcome",
    "SweepResult",
    "SweepSpec",
    "load_sweep",
    "sweep",
    "sweep_from_dict",
]
