"""The scenario engine: project the stock-flow model over draws x scenarios x years.

The posterior supplies, per draw, the history of every driver of DESIGN.md's stock-flow core
and the dynamics to carry it forward. A scenario overrides drivers with its levers from its
start year; flows follow from the identities

    us_add          = us_capex * a_US / p
    cn_add_licensed = demand_CN * licensed_share * allowed_perf / p
    cn_add_leakage  = leakage * demand_CN * (1 - licensed_share) / p
    cn_add_domestic = min(output * yield, hbm_cap)
    K(t)            = (1 - d) K(t-1) + A(t)

and the gap metrics from the stocks. Everything is numpy over (scenario, draw, year); the only
Python loop is over years (and over chunks of scenarios, which also lets a sweep hand chunks to
Dask workers).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from forecast._kernels import stocks_and_gap
from forecast.errors import Problem, ScenarioError
from forecast.scenarios import LEVERS, Scenario

#: Per-draw, per-year arrays the engine needs from the posterior (shape (draw, year)).
HISTORY_FIELDS = (
    "us_h100e", "cn_licensed_h100e", "cn_leakage_h100e", "cn_domestic_h100e",
    "us_add", "cn_add_licensed", "cn_add_leakage", "cn_add_domestic",
    "us_capex_usd_bn", "us_accel_share", "price_usd_per_h100e", "cn_demand_usd_bn",
    "licensed_share", "allowed_perf", "leakage", "domestic_output_h100e_potential",
    "domestic_yield", "hbm_cap_h100e",
)  # fmt: skip
#: Per-draw scalars (shape (draw,)) that carry the drivers beyond the history.
DYNAMICS_FIELDS = (
    "retirement", "us_capex_growth", "us_capex_growth_sd", "price_decline",
    "cn_demand_growth", "domestic_growth", "domestic_growth_sd",
)  # fmt: skip
#: Level levers replace a driver from the start year; growth levers set its growth rate.
LEVEL_LEVERS = {
    "licensed_share": "licensed_share",
    "allowed_perf": "allowed_perf",
    "leakage": "leakage",
    "domestic_yield": "domestic_yield",
    "hbm_cap": "hbm_cap_h100e",
    "utilization": "utilization",
}
GROWTH_LEVERS = {
    "us_capex_growth": "us_capex_usd_bn",
    "cn_capex_growth": "cn_demand_usd_bn",
    "domestic_growth": "domestic_output_h100e_potential",
}
#: Scenarios per chunk: keeps the (chunk, draw, year) working arrays cache-sized.
DEFAULT_CHUNK = 16


def _check_inputs(inputs: object) -> tuple[np.ndarray, int]:
    years = np.asarray(inputs.years)
    missing = [f for f in (*HISTORY_FIELDS, *DYNAMICS_FIELDS) if not hasattr(inputs, f)]
    if missing:
        raise TypeError(f"projection inputs lack {', '.join(missing)}")
    n_draws = np.asarray(inputs.us_h100e).shape[0]
    return years, n_draws


def stable_seed(*parts: object) -> int:
    """A 32-bit integer from text parts, stable across runs and platforms."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little")


@dataclass(frozen=True)
class Baseline:
    """Drivers and stocks over the full year grid, as the posterior's own dynamics carry them.

    Attributes
    ----------
    years : numpy.ndarray
        History followed by projection years.
    n_history : int
        Number of historical years at the front of ``years``.
    drivers : dict of str to numpy.ndarray
        Every name of :data:`HISTORY_FIELDS`, shape (draw, year).
    dynamics : dict of str to numpy.ndarray
        Every name of :data:`DYNAMICS_FIELDS`, shape (draw,).
    """

    years: np.ndarray
    n_history: int
    drivers: dict[str, np.ndarray]
    dynamics: dict[str, np.ndarray]


def baseline(inputs: object, horizon: int, rng: np.random.Generator) -> Baseline:
    """Extend every driver beyond the history with the posterior's dynamics.

    Capex and domestic output follow log random walks with the per-draw growth and spread;
    price falls at the per-draw rate; China's demand grows at its per-draw rate; shares,
    yields and caps stay at their last value (the rules in force at the cut-off).

    Parameters
    ----------
    inputs : ProjectionInputs-like
        Has ``years`` and every field of :data:`HISTORY_FIELDS` and :data:`DYNAMICS_FIELDS`.
    horizon : int
        Last projected year (>= the last historical year).
    rng : numpy.random.Generator
        Draws the random-walk innovations (shared by all scenarios: paired draws).
    """
    hist_years, n_draws = _check_inputs(inputs)
    last = int(hist_years[-1])
    steps = np.arange(1, max(horizon - last, 0) + 1)
    years = np.concatenate([hist_years.astype(int), last + steps])
    dyn = {f: np.asarray(getattr(inputs, f), dtype=float) for f in DYNAMICS_FIELDS}
    eps = rng.standard_normal((2, n_draws, len(steps)))
    paths = {
        "us_capex_usd_bn": np.cumsum(
            dyn["us_capex_growth"][:, None] + dyn["us_capex_growth_sd"][:, None] * eps[0], axis=1
        ),
        "domestic_output_h100e_potential": np.cumsum(
            dyn["domestic_growth"][:, None] + dyn["domestic_growth_sd"][:, None] * eps[1], axis=1
        ),
        "price_usd_per_h100e": -dyn["price_decline"][:, None] * steps,
        "cn_demand_usd_bn": dyn["cn_demand_growth"][:, None] * steps,
    }
    drivers = {}
    for name in HISTORY_FIELDS:
        hist = np.asarray(getattr(inputs, name), dtype=float)
        log_step = paths.get(name, np.zeros((n_draws, len(steps))))
        drivers[name] = np.concatenate([hist, hist[:, -1:] * np.exp(log_step)], axis=1)
    drivers["utilization"] = np.ones((n_draws, len(years)))  # China relative to the US
    return Baseline(years, len(hist_years), drivers, dyn)


def _lever_arrays(scenarios: list[Scenario], base: Baseline, seed: int) -> dict[str, np.ndarray]:
    """Driver arrays (scenario, draw, year) after applying each scenario's levers.

    A driver that no scenario of the chunk sets stays a broadcast view of the baseline.
    """
    years = base.years
    n_draws = base.drivers["us_h100e"].shape[0]
    shape = (len(scenarios), n_draws, len(years))
    out = {}
    for lever, driver in {**LEVEL_LEVERS, **GROWTH_LEVERS}.items():
        base_path = base.drivers[driver]
        if not any(lever in s.levers for s in scenarios):
            out[driver] = np.broadcast_to(base_path, shape)
            continue
        rows = []
        for scenario in scenarios:
            if lever not in scenario.levers:
                rows.append(base_path)
                continue
            rng = np.random.default_rng(stable_seed(seed, scenario.name, lever))
            bounds = LEVERS[lever]
            lever_path = scenario.levers[lever].evaluate(years, n_draws, rng)
            lever_path = np.clip(lever_path, bounds.low, bounds.high)  # distribution tails
            after = years >= scenario.start
            if lever in LEVEL_LEVERS:
                rows.append(np.where(after, lever_path, base_path))
            else:
                rows.append(_grow_from(base_path, 1.0 + lever_path, after))
        out[driver] = np.stack(rows)
    for name in ("us_accel_share", "price_usd_per_h100e"):
        out[name] = np.broadcast_to(base.drivers[name], shape)
    return out


def _grow_from(base_path: np.ndarray, factor: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Base path before the start; from the start, the last base value times the factors."""
    first = int(np.argmax(after)) if after.any() else len(after)
    if first == len(after):
        return base_path.copy()
    anchor = base_path[:, first - 1 : first]
    grown = anchor * np.cumprod(factor[:, first:], axis=1)
    return np.concatenate([base_path[:, :first], grown], axis=1)


def _flows(drivers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    price = drivers["price_usd_per_h100e"]
    demand = drivers["cn_demand_usd_bn"] * 1e9 / price
    licensed = drivers["licensed_share"]
    return {
        "us_add": drivers["us_capex_usd_bn"] * 1e9 * drivers["us_accel_share"] / price,
        "cn_add_licensed": demand * licensed * drivers["allowed_perf"],
        "cn_add_leakage": drivers["leakage"] * demand * (1.0 - licensed),
        "cn_add_domestic": np.minimum(
            drivers["domestic_output_h100e_potential"] * drivers["domestic_yield"],
            drivers["hbm_cap_h100e"],
        ),
    }


_FLOW_STOCKS = (
    ("us_add", "us_h100e"),
    ("cn_add_licensed", "cn_licensed_h100e"),
    ("cn_add_leakage", "cn_leakage_h100e"),
    ("cn_add_domestic", "cn_domestic_h100e"),
)


def project_chunk(scenarios: list[Scenario], base: Baseline, seed: int) -> dict[str, np.ndarray]:
    """Project a chunk of scenarios over all draws and years.

    Parameters
    ----------
    scenarios : list of Scenario
        Start years must lie after the first year of ``base``.
    base : Baseline
        From :func:`baseline`.
    seed : int
        Seeds the lever distributions (per scenario and lever, so results do not depend on
        which other scenarios are in the chunk).

    Returns
    -------
    dict of str to numpy.ndarray
        Every metric of :data:`forecast.metrics.METRICS`, shape (scenario, draw, year).
    """
    drivers = _lever_arrays(scenarios, base, seed)
    flows = _flows(drivers)
    starts = np.array([s.start for s in scenarios])
    frozen = (base.years[None, :] < starts[:, None]) & (
        np.arange(len(base.years)) < base.n_history
    )  # (scenario, year): history kept as the posterior has it
    for name, flow in flows.items():
        flows[name] = np.where(frozen[:, None, :], base.drivers[name][None], flow)
    out = np.empty((5, *flows["us_add"].shape))
    stocks_and_gap(
        np.stack([flows[f] for f, _ in _FLOW_STOCKS]),
        np.stack([base.drivers[k] for _, k in _FLOW_STOCKS]),
        frozen,
        1.0 - base.dynamics["retirement"],
        np.ascontiguousarray(drivers["utilization"]),
        base.years.astype(float),
        out,
    )
    gap = dict(zip(("us_h100e", "cn_h100e", "ratio_us_cn", "cn_share", "years_behind"), out))
    return {**gap, **flows}


def check_starts(scenarios: list[Scenario], base: Baseline, horizon: int) -> None:
    """Every start year must lie after the first data year and not after the horizon."""
    first = int(base.years[0])
    problems = [
        Problem(
            s.path.name if s.path else f"<{s.name}>",
            None,
            f"field 'start': {s.start} is outside the data and horizon ({first + 1}..{horizon})",
        )
        for s in scenarios
        if not first < s.start <= horizon
    ]
    if problems:
        raise ScenarioError(problems)
