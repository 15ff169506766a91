"""The small sweep of the tests: its specification, inputs, a run, and checks of its rows."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

import forecast
from forecast.sweeps import SweepSpec, sweep_from_dict
from tests.helpers.synthetic import synthetic_inputs

SMALL_TOML = """
name = "small"
description = "Three levers, one of them US-side"
base = "status_quo"
start = 2026
horizon = 2030
outcomes = ["us_h100e in 2030", "cn_share in 2030"]
conditions = ["cn_share >= 0.2 in 2030"]
[levers]
us_capex_growth = [-0.1, 0.3]
leakage = [0.05, 0.6]
domestic_yield = [0.2, 0.6]
"""
SMALL = tomllib.loads(SMALL_TOML)


def small_spec() -> SweepSpec:
    """A sweep cheap enough for tests (3 levers, horizon 2030)."""
    return sweep_from_dict(SMALL)


def small_inputs(n_draws: int = 20):
    """Synthetic posterior inputs, 2021-2025, with limits too wide to bind (but HBM)."""
    return synthetic_inputs(n_draws=n_draws, first=2021, last=2025, loose=True)


def run_small(out: Path, inputs: object = None, **options) -> forecast.SweepResult:
    """A small sweep (default: of :func:`small_inputs`) on an in-process LocalCluster."""
    settings = {"samples": 16, "processes": False, "workers": 1, "chunk_size": 16, **options}
    return forecast.sweep(small_spec(), inputs or small_inputs(), out=out, **settings)


def tidy(result: forecast.SweepResult) -> pd.DataFrame:
    """All result rows, in a canonical order."""
    frame = result.results.to_table().to_pandas()
    return frame.sort_values(["outcome", "sample"], ignore_index=True)


def assert_each_sample_once(result: forecast.SweepResult) -> None:
    """Every sample of the design has exactly one row per outcome: none lost, none repeated."""
    frame = tidy(result)
    assert not frame.duplicated(["sample", "outcome"]).any()
    for _, group in frame.groupby("outcome"):
        assert sorted(group["sample"]) == list(range(result.manifest["rows"]))
