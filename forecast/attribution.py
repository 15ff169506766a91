"""Lever attribution: how much each lever of a scenario moves log(ratio_us_cn) against a base.

The scenario's levers that differ from the base's are switched on in every subset (2^k
projections on the same posterior draws and shocks), and each lever's Shapley value is its
average marginal effect over the orders in which the levers could be switched on. Per draw,
the contributions add up exactly to the scenario's total change against the all-off subset.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from math import factorial

import numpy as np
import pandas as pd

from forecast import bounds
from forecast.engine import project_chunk
from forecast.errors import ScenarioError, UsageError
from forecast.projection import Projection
from forecast.quantiles import QUANTILES, quantile_column
from forecast.scenarios import Scenario

#: Most levers attributed exactly (2^k projections).
MAX_LEVERS = 10


def differing_levers(scenario: Scenario, base: Scenario) -> list[str]:
    """Levers whose value in ``scenario`` differs from ``base`` (set in either), sorted."""
    names = set(scenario.levers) | set(base.levers)
    return sorted(n for n in names if scenario.levers.get(n) != base.levers.get(n))


def _subset_scenario(scenario: Scenario, base: Scenario, on: tuple[str, ...]) -> Scenario:
    """``scenario`` with only the levers in ``on`` taken from it, the rest from ``base``."""
    levers = {n: v for n, v in base.levers.items() if n not in on}
    levers.update({n: scenario.levers[n] for n in on if n in scenario.levers})
    return replace(scenario, levers=levers)


def shapley_weights(k: int) -> dict[int, float]:
    """Weight of a marginal effect from a subset of size s: ``s! (k - s - 1)! / k!``."""
    return {s: factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)}


def attribution_draws(
    projection: Projection,
    scenario: str,
    base: str = "status_quo",
    year: int = 2030,
    metric: str = "ratio_us_cn",
) -> dict[str, np.ndarray]:
    """Per-draw Shapley contributions to ``log(metric)`` (see :func:`attribute`).

    Returns
    -------
    dict of str to numpy.ndarray
        One (draw,) array per differing lever, and ``total``; the levers sum to the total.
    """
    if not isinstance(projection, Projection):
        got = type(projection).__name__
        raise UsageError(f"projection must be a Projection (see forecast.project), got {got}")
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise UsageError(f"year must be a whole number, got {year!r:.60}")
    if not isinstance(metric, str) or metric not in projection.values:
        raise UsageError(
            f"metric must be a metric of the projection (forecast.metrics.METRICS), got "
            f"{metric!r:.60}"
        )
    if projection.world is None:
        raise ScenarioError("this projection does not carry its world; use forecast.project")
    target = projection.scenarios[projection._index(scenario)]
    reference = projection.scenarios[projection._index(base)]
    if year not in projection.years:
        raise ScenarioError(f"year {year} is outside {projection.years[0]}..{projection.years[-1]}")
    levers = differing_levers(target, reference)
    if len(levers) > MAX_LEVERS:
        raise ScenarioError(f"{scenario!r} differs from {base!r} in {len(levers)} levers; "
                            f"attribution handles at most {MAX_LEVERS}")  # fmt: skip
    subsets = [c for r in range(len(levers) + 1) for c in itertools.combinations(levers, r)]
    chunk = [_subset_scenario(target, reference, on) for on in subsets]
    values = project_chunk(chunk, projection.world, projection.seed)[metric]
    col = int(np.searchsorted(projection.world.years, year))
    value = dict(zip(subsets, np.log(values[:, :, col])))
    weights = shapley_weights(len(levers))
    out = {}
    for lever in levers:
        out[lever] = sum(
            weights[len(on)] * (value[tuple(sorted((*on, lever)))] - value[on])
            for on in subsets
            if lever not in on
        )
    out["total"] = value[tuple(levers)] - value[()]
    return out


def attribute(
    projection: Projection,
    scenario: str,
    base: str = "status_quo",
    year: int = 2030,
    metric: str = "ratio_us_cn",
    quantiles: tuple[float, ...] = QUANTILES,
) -> pd.DataFrame:
    """Shapley attribution of ``log(metric)``'s change from ``base`` to ``scenario``.

    Parameters
    ----------
    projection : Projection
        Holds both scenarios and the model's world they were projected on.
    scenario, base : str
        Scenario names in ``projection``.
    year : int
        Year of the metric.
    metric : str
        A positive metric (default ``ratio_us_cn``); its log is attributed.
    quantiles : tuple of float
        Quantiles of each contribution over the paired draws.

    Returns
    -------
    pandas.DataFrame
        ``scenario, base, year, metric, lever, mean, q05..q95, share_positive``: one row
        per differing lever and a ``total`` row (the scenario's change against all levers
        off); per draw the lever rows sum to the total.

    Raises
    ------
    ScenarioError
        Unknown scenario or year, a projection without its world, or more than
        :data:`MAX_LEVERS` differing levers.
    UsageError
        An argument of the wrong type: ``projection`` not a Projection, ``year`` not a whole
        number, an unknown ``metric``, ``quantiles`` not increasing probabilities.
    """
    quantiles = bounds.check_levels(quantiles, "quantiles")
    draws = attribution_draws(projection, scenario, base, year, metric)
    rows = []
    for lever, values in draws.items():
        qs = np.quantile(values, quantiles)
        rows.append({
            "scenario": scenario, "base": base, "year": year, "metric": f"log_{metric}",
            "lever": lever, "mean": values.mean(),
            **{quantile_column(q): v for q, v in zip(quantiles, qs)},
            "share_positive": (values > 0).mean(),
        })  # fmt: skip
    return pd.DataFrame(rows)
