"""The stock-flow core: limits as properties, the compiled mirror, and one code path."""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecast import core
from forecast._kernels import OUTPUTS
from forecast.engine import _lever_arrays, project_chunk
from forecast.evaluation import prepare
from forecast.projection import project
from forecast.scenarios import scenario_from_dict
from tests.helpers.synthetic import synthetic_inputs

RTOL = 1e-9


@functools.lru_cache
def _inputs(seed: int, n_draws: int):
    return synthetic_inputs(n_draws=n_draws, first=2019, last=2025, seed=seed)


def _world(seed: int = 0, n_draws: int = 40, horizon: int = 2035, **dynamics) -> core.World:
    inputs = _inputs(seed, n_draws)
    if dynamics:
        inputs = replace(inputs, dynamics={**inputs.dynamics, **dynamics})
    return core.extend(inputs, horizon, np.random.default_rng(seed))


def _limit_checks(world: core.World, out: dict) -> None:
    """Every flow within its limit, in every limited year and draw."""
    d, s, t = world.drivers, world.scalars, world.limited
    tol = 1 + 1e-9
    want = core.demand_flows(core.NP, d)
    for f in core.FLOWS:
        assert np.all(out[f] >= 0)
        if f != "cn_add_domestic":  # domestic demand also gains the substituted dollars
            assert np.all(out[f][:, t] <= want[f][:, t] * tol + 1e-6)
    for k in core.STOCKS:
        assert np.all(out[k] >= 0)
    # money: what capex under the financing ceiling buys
    money = d["us_capex_ceiling_usd_bn"] * 1e9 * d["us_accel_share"] / d["price_usd_per_h100e"]
    assert np.all(out["us_add"][:, t] <= money[:, t] * tol)
    assert np.all(out["us_capex_usd_bn"][:, t] <= d["us_capex_ceiling_usd_bn"][:, t] * tol)
    # power: the stock never draws more than the envelope
    assert np.all(out["us_power_gw"][:, t] <= d["us_power_gw"][:, t] * tol)
    # supply: US plus China's foreign chips within world output less the rest of the world
    bought = out["us_add"] + out["cn_add_licensed"] + out["cn_add_leakage"]
    room = d["world_supply_h100e"] * (1 - d["row_share"])
    assert np.all(bought[:, t] <= room[:, t] * tol)
    # smuggling: within the capacity enforcement leaves
    capacity = d["smuggling_capacity_h100e"] * (1 - d["enforcement"])
    assert np.all(out["cn_add_leakage"][:, t] <= capacity[:, t] * tol)
    # China's fabs: wafers and HBM (stockpile never negative)
    wafers = d["cn_wafer_capacity_wpm"] * s["cn_h100e_per_wafer"][:, None] * d["domestic_yield"]
    assert np.all(out["cn_add_domestic"][:, t] <= wafers[:, t] * tol)
    assert np.all(out["hbm_stockpile_stacks"] >= 0)
    # HBM: stacks used each limited year <= that year's output + the stockpile left before it
    stacks = out["cn_add_domestic"] * s["hbm_stacks_per_h100e"][:, None]
    left = np.concatenate(
        [np.full((len(stacks), 1), np.inf), out["hbm_stockpile_stacks"][:, :-1]], 1
    )
    free = np.isinf(d["hbm_cap_h100e"])
    room = d["cn_hbm_output_stacks"] + left
    assert np.all(np.where(free, stacks, 0)[:, t] <= room[:, t] * tol + 1e-3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 4),
    build=st.floats(0.0, 40.0),
    slack=st.floats(-0.5, 0.5),
    row=st.floats(0.0, 0.9),
    multiple=st.floats(0.2, 3.0),
    per_wafer=st.floats(1.0, 2000.0),
    enforcement=st.floats(0.0, 1.0),
    substitution=st.floats(0.0, 1.0),
)
def test_no_flow_exceeds_its_limit(
    seed, build, slack, row, multiple, per_wafer, enforcement, substitution
) -> None:
    n = 30
    world = _world(
        seed, n, us_power_build_gw=np.full(n, build), power_slack=np.full(n, slack),
        supply_slack=np.full(n, slack), row_share=np.full(n, row),
        capex_ocf_multiple=np.full(n, multiple), cn_h100e_per_wafer=np.full(n, per_wafer),
        smuggling_capacity_slack=np.full(n, slack), substitution=np.full(n, substitution),
    )  # fmt: skip
    drivers = dict(world.drivers)
    drivers["enforcement"] = np.where(world.limited, enforcement, 0.0) * np.ones((n, 1))
    drivers["licensed_share"] = drivers["licensed_share"] * (1 - enforcement)  # more restricted
    world = replace(world, drivers=drivers)
    _limit_checks(world, core.project_world(world))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 4), low=st.floats(0.0, 1.0), high=st.floats(0.0, 1.0))
def test_stronger_enforcement_never_raises_smuggling(seed, low, high) -> None:
    low, high = sorted((low, high))
    world = _world(seed, 30)
    smuggled = []
    for level in (low, high):
        drivers = {**world.drivers, "enforcement": np.where(world.limited, level, 0.0)
                   * np.ones((30, 1))}  # fmt: skip
        smuggled.append(core.project_world(replace(world, drivers=drivers))["cn_add_leakage"])
    assert np.all(smuggled[1] <= smuggled[0] * (1 + 1e-12))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 4), year=st.integers(2026, 2035), level=st.floats(0.1, 1.0))
def test_enforcement_in_one_year_leaves_other_years_foreign_flows(seed, year, level) -> None:
    """China's share of short world supply is set against the US order on its planned path,
    so a lever on China in one year cannot reach China's foreign chips in later years through
    the US's additions and power (docs/DESIGN.md); in that year smuggling only falls."""
    world = _world(seed, 30, supply_slack=np.full(30, -0.5))  # short supply in some draws
    base = core.project_world(world)
    pulse = (world.years == year)[None, :] * np.ones((30, 1))
    moved = core.project_world(
        replace(world, drivers={**world.drivers, "enforcement": pulse * level})
    )
    other = world.years != year
    for flow in ("cn_add_licensed", "cn_add_leakage"):
        np.testing.assert_array_equal(moved[flow][:, other], base[flow][:, other])
    hit = world.years == year
    assert np.all(moved["cn_add_leakage"][:, hit] <= base["cn_add_leakage"][:, hit])
    short = base["binding_cn_foreign"][:, world.limited] == core.CN_FOREIGN_LIMITS.index("supply")
    assert short.any()


def _scaled(world: core.World, driver: str, factor: float, years: np.ndarray) -> core.World:
    drivers = dict(world.drivers)
    drivers[driver] = np.where(years, drivers[driver] * factor, drivers[driver])
    return replace(world, drivers=drivers)


LIMITS = {
    "us_capex_ceiling_usd_bn": "us_add",
    "us_power_gw": "us_add",
    "world_supply_h100e": "us_add",
    "cn_wafer_capacity_wpm": "cn_add_domestic",
    "cn_hbm_output_stacks": "cn_add_domestic",
}


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 4),
    limit=st.sampled_from(sorted(LIMITS)),
    factor=st.floats(1.0, 5.0),
    year=st.integers(2026, 2035),
)
def test_raising_a_limit_never_lowers_additions(seed, limit, factor, year) -> None:
    """From ``year`` on, a higher limit gives at least the same cumulative additions (and
    the same additions in that year); a lower one never gives more.

    With chips of one efficiency (``efficiency_gain = 0``): when newer chips need less power,
    more old chips can crowd out newer ones, the one intertemporal effect the core has.
    """
    world = _world(seed, 30, efficiency_gain=np.zeros(30))
    from_year = world.years >= year
    flow = LIMITS[limit]
    base = core.project_world(world)[flow]
    for f, sign in ((factor, 1), (1 / factor, -1)):
        moved = core.project_world(_scaled(world, limit, f, from_year))[flow]
        col = int(np.argmax(from_year))
        assert np.all(sign * (moved[:, col] - base[:, col]) >= -1e-6 * base[:, col])
        gain = np.cumsum(moved - base, axis=1)[:, from_year]
        assert np.all(sign * gain >= -1e-6 * np.cumsum(base, axis=1)[:, from_year])


def test_binding_codes_name_the_smallest_limit() -> None:
    world = _world(3, 50)
    out = core.project_world(world)
    us = out["binding_us"][:, world.limited]
    cn = out["binding_cn"][:, world.limited]
    assert set(np.unique(us)) <= set(range(len(core.US_LIMITS)))
    assert set(np.unique(cn)) <= set(range(len(core.CN_LIMITS)))
    assert len(np.unique(us)) > 1 and len(np.unique(cn)) > 1  # the synthetic world mixes
    power_bound = out["binding_us"] == 2
    envelope = world.drivers["us_power_gw"]
    np.testing.assert_allclose(out["us_power_gw"][power_bound], envelope[power_bound], rtol=1e-9)


def _scenario(name: str, start: int = 2026, **levers) -> object:
    return scenario_from_dict(
        {"name": name, "description": f"test {name}", "start": start, "levers": levers}
    )


@pytest.mark.parametrize(
    "levers",
    [
        {},
        {"licensed_share": 0.8, "leakage": 0.05, "hbm_cap": 2e5},
        {"us_power_gw_growth": 0.3, "packaging_supply_growth": 0.6, "cn_hbm_output": 1e7},
        {"us_capex_growth": [[2026, 0.5], [2030, -0.2]], "cn_wafer_capacity_growth": 0.4},
        {"packaging_supply_growth": -0.4, "enforcement": 0.3, "licensed_share": 0.9},
    ],
)
def test_compiled_kernel_equals_the_core_draw_by_draw(levers) -> None:
    world = _world(5, 60)
    scenarios = [_scenario("a", **levers), _scenario("b", start=2024, leakage=0.3)]
    got = project_chunk(scenarios, world, seed=1)
    drivers = _lever_arrays(scenarios, world, seed=1)
    for i, scenario in enumerate(scenarios):
        d = {k: np.broadcast_to(v[min(i, v.shape[0] - 1)], world.drivers["us_capex_usd_bn"].shape)
             for k, v in drivers.items()}  # fmt: skip
        frozen = np.broadcast_to(
            (world.years < scenario.start) & (np.arange(len(world.years)) < world.n_full),
            d["us_capex_usd_bn"].shape,
        )
        ref = core.roll_forward(d, world.scalars, world.hist, frozen, world.limited,
                                world.hbm_index)  # fmt: skip
        for name in OUTPUTS:
            if name in ref:
                np.testing.assert_allclose(got[name][i], ref[name], rtol=RTOL, atol=1e-6)
        np.testing.assert_allclose(got["us_h100e"][i], ref["us_h100e"], rtol=RTOL)
        cn = ref["cn_licensed_h100e"] + ref["cn_leakage_h100e"] + ref["cn_domestic_h100e"]
        np.testing.assert_allclose(got["cn_h100e"][i], cn, rtol=RTOL)


def test_status_quo_equals_the_model_forecast_draw_by_draw() -> None:
    """The engine's status quo is the model's own future: one world, one recursion."""
    inputs = synthetic_inputs(n_draws=80, first=2019, last=2025, seed=7)
    projection = project(inputs, [_scenario("sq")], horizon=2035, seed=11)
    world = prepare(inputs, 2035, 11).world
    forecast = core.project_world(world)
    for name in ("us_h100e", "us_add", "cn_add_leakage", "cn_add_domestic", "us_power_gw"):
        np.testing.assert_allclose(projection.values[name][0], forecast[name], rtol=RTOL)
    for name in ("binding_us", "binding_cn"):
        np.testing.assert_array_equal(projection.values[name][0], forecast[name])


def test_outputs_cover_metrics_and_binding() -> None:
    from forecast.metrics import BINDING, FLAGS, METRICS

    assert OUTPUTS == (*METRICS, *BINDING, *FLAGS)


def test_prior_draws_stay_within_every_envelope() -> None:
    """Prior predictive of the real design: 2026-2035 flows inside every limit."""
    from forecast.data import load_dataset
    from forecast.model.config import model_config
    from forecast.model.observations import build_design
    from forecast.model.predict import prior_world

    design = build_design(load_dataset(), model_config())
    world = prior_world(design, model_config(), n_draws=300, horizon=2035, seed=2)
    assert world.years[world.limited][0] == 2026 and world.years[-1] == 2035
    with np.errstate(invalid="ignore", over="ignore"):
        _limit_checks(world, core.project_world(world))
