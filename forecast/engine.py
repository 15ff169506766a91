"""The scenario engine: project the stock-flow core over draws x scenarios x years.

The posterior supplies, per draw, the history of every driver and the dynamics that carry
it forward; :func:`forecast.core.extend` builds the model's own future from them (the same
call the model's posterior predictive makes). A scenario overrides drivers with its levers
from its start year; the flows, limits, stocks and gap metrics then follow in one compiled
pass per (scenario, draw) (:func:`forecast._kernels.project_rows`, which mirrors
:func:`forecast.core.roll_forward` and is tested equal to it).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np

from forecast import core
from forecast._kernels import OUTPUTS, project_rows
from forecast.errors import Problem, ScenarioError, UsageError
from forecast.scenarios import LEVERS, Scenario

#: The model's world over data years and projection (see :class:`forecast.core.World`).
Baseline = core.World
#: Level levers replace a driver from the start year; growth levers set its growth rate.
LEVEL_LEVERS = {
    "licensed_share": "licensed_share",
    "allowed_perf": "allowed_perf",
    "leakage": "leakage",
    "domestic_yield": "domestic_yield",
    "hbm_cap": "hbm_cap_h100e",
    "cn_hbm_output": "cn_hbm_output_stacks",
    "utilization": "cn_utilization",
    "enforcement": "enforcement",
    "smuggling_premium": "smuggling_price_factor",
    "substitution": "substitution",
    "cn_import_restriction": "cn_import_restriction",
    "domestic_push": "domestic_output_h100e_potential",
}
GROWTH_LEVERS = {
    "us_capex_growth": "us_capex_usd_bn",
    "cn_capex_growth": "cn_demand_usd_bn",
    "domestic_growth": "domestic_output_h100e_potential",
    "us_power_gw_growth": "us_power_gw",
    "packaging_supply_growth": "world_supply_h100e",
    "cn_wafer_capacity_growth": "cn_wafer_capacity_wpm",
    "smuggling_capacity_growth": "smuggling_capacity_h100e",
}
#: Growth levers on a limit: they act from the first projected year's limit on (the limits
#: do not exist in the complete-data years).
LIMIT_LEVERS = (
    "us_power_gw_growth", "packaging_supply_growth", "cn_wafer_capacity_growth",
    "smuggling_capacity_growth",
)  # fmt: skip
#: Scenarios per chunk: keeps the (chunk, draw, year) working arrays cache-sized.
DEFAULT_CHUNK = 16
#: Fewest draws worth a thread of their own (starting one costs ~0.1 ms).
MIN_DRAWS_PER_THREAD = 250


def engine_threads(n_draws: int) -> int:
    """Threads :func:`project_chunk` uses by default: one per available core, at most one
    per :data:`MIN_DRAWS_PER_THREAD` draws."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, n_draws // MIN_DRAWS_PER_THREAD))


def stable_seed(*parts: object) -> int:
    """A 32-bit integer from text parts, stable across runs and platforms."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def baseline(inputs: object, horizon: int, rng: np.random.Generator) -> Baseline:
    """The model's world from the data to ``horizon``: :func:`forecast.core.extend`.

    Parameters
    ----------
    inputs : ProjectionInputs-like
        ``years``, ``n_full``, ``hist``, ``dynamics``, ``anchors`` and ``wafer_plan``.
    horizon : int
        Last projected year (>= the last data year).
    rng : numpy.random.Generator
        Draws the shocks (shared by all scenarios: paired draws).
    """
    missing = [f for f in (*core.HISTORY, *core.CONTROL_HISTORY) if f not in inputs.hist]
    missing += [f for f in core.DYNAMICS if f not in inputs.dynamics]
    missing += [f for f in core.ANCHORS if f not in inputs.anchors]
    if missing:
        raise UsageError(f"projection inputs lack {', '.join(missing)}")
    return core.extend(inputs, horizon, rng)


def _lever_arrays(scenarios: list[Scenario], base: Baseline, seed: int) -> dict[str, np.ndarray]:
    """Driver arrays (scenario, draw, year) after applying each scenario's levers.

    A driver that no scenario of the chunk sets is passed once, shape (1, draw, year).
    """
    out = {name: base.drivers[name][None] for name in core.DRIVERS}
    for lever, driver in {**LEVEL_LEVERS, **GROWTH_LEVERS}.items():
        if not any(lever in s.levers for s in scenarios):
            continue
        arrays = out[driver]  # per scenario once a lever has set it (two levers may share it)
        if arrays.shape[0] == 1:
            arrays = np.repeat(arrays, len(scenarios), axis=0)
        for row, scenario in zip(arrays, scenarios):
            if lever in scenario.levers:
                _apply(row, lever, scenario, base, seed)
        out[driver] = arrays
    return out


def _apply(path: np.ndarray, lever: str, scenario: Scenario, base: Baseline, seed: int) -> None:
    """Set a scenario's lever on one driver path (draw, year), in place, from its start."""
    years = base.years
    first = int(np.searchsorted(years, scenario.start))
    if lever in LIMIT_LEVERS:
        first = max(first, base.n_full + 1)
    if first >= len(years):
        return
    value = scenario.levers[lever]
    bounds = LEVERS[lever]
    if value.kind == "constant" and lever in GROWTH_LEVERS:  # no (draw, year) array needed
        steps = np.arange(1, len(years) - first + 1)
        path[:, first:] = path[:, first - 1 : first] * (1.0 + value.constant) ** steps
        return
    if value.kind == "constant" and lever not in ("allowed_perf", "smuggling_premium",
                                                  "domestic_push"):  # fmt: skip
        path[:, first:] = value.constant
        return
    values = value.evaluate(years[first:], base.n_draws, _lever_rng(value, seed, scenario, lever))
    np.clip(values, bounds.low, bounds.high, out=values)  # distribution tails
    if lever == "domestic_push":
        _push(path, values, first, base)
    elif lever in LEVEL_LEVERS:
        path[:, first:] = _as_driver(lever, values, years[first:] - scenario.start, base)
    else:
        path[:, first:] = path[:, first - 1 : first] * np.cumprod(1.0 + values, axis=1)


def _lever_rng(value, seed: int, scenario: Scenario, lever: str) -> np.random.Generator | None:
    """The stream of a distribution lever (per scenario and lever); None for a fixed value."""
    return np.random.default_rng(stable_seed(seed, scenario.name, lever)) if value.dist else None


def _push(path: np.ndarray, share: np.ndarray, first: int, base: Baseline) -> None:
    """Scale the export controls' push to domestic output from year index ``first`` on.

    Output keeps what the push had added by the year before the start; after it, the push's
    further log growth counts ``share`` times (0: none, 1: as fitted), in place.
    """
    push = base.domestic_push_log
    path[:, first:] *= np.exp((share - 1.0) * (push[:, first:] - push[:, first - 1 : first]))


def _as_driver(lever: str, values: np.ndarray, age: np.ndarray, base: Baseline) -> np.ndarray:
    """A level lever's values in its driver's terms.

    ``allowed_perf`` is the licensed chip's performance per dollar against the frontier in
    the start year; a fixed chip then falls behind (:attr:`forecast.core.World.licensed_ageing`)
    unless it is the frontier chip itself (1).
    ``smuggling_premium`` is the premium over list price; its driver is ``1 + premium``.
    """
    if lever == "allowed_perf":  # 1 is the frontier chip itself, which does not age
        aged = values * np.exp(-base.licensed_ageing[:, None] * np.maximum(age, 0))
        return np.where(values >= 1.0, values, aged)
    if lever == "smuggling_premium":
        return 1.0 + values
    return values


def project_chunk(
    scenarios: list[Scenario], base: Baseline, seed: int, threads: int | None = None
) -> dict[str, np.ndarray]:
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
    threads : int, optional
        Threads that share the draws (the compiled kernel releases the GIL); default
        :func:`engine_threads`. Results do not depend on it.

    Returns
    -------
    dict of str to numpy.ndarray
        Every output of :data:`forecast._kernels.OUTPUTS`, shape (scenario, draw, year).
    """
    drivers = _lever_arrays(scenarios, base, seed)
    starts = np.array([s.start for s in scenarios])
    frozen = (base.years[None, :] < starts[:, None]) & (
        np.arange(len(base.years)) < base.n_full
    )  # (scenario, year): complete-data years before the start, as the posterior has them
    hist = np.stack([base.hist[k] for k in (*core.STOCKS, *core.FLOWS)])
    out = np.empty((len(OUTPUTS), len(scenarios), base.n_draws, len(base.years)))
    args = (
        tuple(np.ascontiguousarray(drivers[name]) for name in core.DRIVERS),
        tuple(np.ascontiguousarray(base.scalars[name]) for name in core.SCALARS),
        hist,
        frozen,
        base.limited,
        base.hbm_index,
        base.years.astype(float),
        out,
    )
    n_threads = engine_threads(base.n_draws) if threads is None else threads
    edges = np.linspace(0, base.n_draws, max(1, min(n_threads, base.n_draws)) + 1).astype(int)
    if len(edges) == 2:
        project_rows(*args, 0, base.n_draws)
    else:
        with ThreadPoolExecutor(len(edges) - 1) as pool:
            for done in [pool.submit(project_rows, *args, a, b) for a, b in pairwise(edges)]:
                done.result()
    return dict(zip(OUTPUTS, out))


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
