"""The stock-flow core: quantity names, identities and physical limits, written once.

A leaf module (numpy only). The PyMC model evaluates :func:`demand_flows` and
:func:`closed_form_stocks` with PyTensor ops (its own namespace of the same function names);
everything else here is the forward model that carries the world past the data, used by the
model's posterior and prior predictive, by the scenario engine (whose compiled kernel mirrors
:func:`roll_forward` and is tested equal to it) and by the report.

Every flow is what buyers want capped by what can be paid for, powered and built
(DESIGN.md, frame v2)::

    US:  capex      = min(trend capex, ceiling = multiple x operating cash flow)      finance
         us_want    = min(capex a_US / p,                                             money
                          (power envelope - (1 - d) power in use) / kW per new H100e) power
    CN:  licensed   = demand x licensed share x (1 - China's own restriction) x allowed
                      perf / p   (a fixed licensed chip falls behind the frontier)
         smuggled   = min(leakage x restricted demand at a premium,                  demand
                          capacity x (1 - enforcement))                              smuggling
         unserved restricted dollars turn partly to domestic chips (substitution)
         domestic   = min(output x yield + substitution,                             demand
                          wafer capacity x H100e per good wafer x yield,              wafers
                          (HBM stockpile + domestic HBM output) / stacks per H100e)   hbm
    World: world supply less the rest of the world's part, when short, gives China's
         foreign chips their share of orders (the US order: what money buys within
         the power the envelope adds); the US takes what China leaves            supply
    K(t) = (1 - d) K(t-1) + A(t);  power in use P(t) = (1 - d) P(t-1) + A_US(t) w_new(t)

Limits apply in the *limited* years (after the data); in the data years flows are the
identities the model was fitted with (there the data, not a prior, say what was built).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

#: Stocks (H100e) and the flows (H100e per year) that fill them.
STOCKS: dict[str, str] = {
    "us_h100e": "us_add",
    "cn_licensed_h100e": "cn_add_licensed",
    "cn_leakage_h100e": "cn_add_leakage",
    "cn_domestic_h100e": "cn_add_domestic",
}
FLOWS: tuple[str, ...] = tuple(STOCKS.values())

#: What caps US additions, by code (``binding_us``).
US_LIMITS: tuple[str, ...] = ("money", "finance", "power", "supply")
#: What caps China's domestic additions, by code (``binding_cn``).
CN_LIMITS: tuple[str, ...] = ("demand", "wafers", "hbm")
#: What caps China's foreign additions (``binding_cn_foreign``): smuggling capacity, supply.
CN_FOREIGN_LIMITS: tuple[str, ...] = ("demand", "smuggling", "supply")

#: Per-year drivers the forward model reads, shape (row, year).
DRIVERS: tuple[str, ...] = (
    "us_capex_usd_bn", "us_capex_ceiling_usd_bn", "us_accel_share", "price_usd_per_h100e",
    "us_power_gw", "kw_per_h100e", "world_supply_h100e", "row_share",
    "cn_demand_usd_bn", "licensed_share", "allowed_perf", "leakage",
    "domestic_output_h100e_potential", "domestic_yield", "hbm_cap_h100e",
    "cn_wafer_capacity_wpm", "cn_hbm_output_stacks",
    "smuggling_capacity_h100e", "enforcement", "smuggling_price_factor", "substitution",
    "cn_import_restriction", "cn_unserved_base_usd_bn", "us_utilization", "cn_utilization",
)  # fmt: skip
#: Per-row scalars the forward model reads, shape (row,).
SCALARS: tuple[str, ...] = (
    "retirement", "cn_h100e_per_wafer", "hbm_stacks_per_h100e", "hbm_stockpile_stacks",
    "smuggling_price_factor0", "domestic_price_factor",
)  # fmt: skip
#: What :func:`roll_forward` returns besides the flows, shape (row, year).
STATE: tuple[str, ...] = (
    *STOCKS, "us_capex_usd_bn", "us_power_gw", "hbm_stockpile_stacks",
    "binding_us", "binding_cn", "binding_cn_foreign",
)  # fmt: skip

NP = SimpleNamespace(minimum=np.minimum, where=np.where, exp=np.exp, log=np.log, dot=np.dot)


def demand_flows(ops: SimpleNamespace, d: dict) -> dict:
    """Additions buyers want and can pay for: DESIGN.md's identities.

    ``us_add = capex a_US / p``; China's licensed and leaked foreign chips from its demand;
    domestic additions ``min(output x yield, hbm_cap)`` (the cap binds after the HBM rule in
    the data years; a scenario's ``hbm_cap`` lever sets it in the projection).
    """
    price = d["price_usd_per_h100e"]
    want_cn = d["cn_demand_usd_bn"] * 1e9 / price
    licensed = d["licensed_share"]
    return {
        "us_add": d["us_capex_usd_bn"] * 1e9 * d["us_accel_share"] / price,
        "cn_add_licensed": want_cn * licensed * d["allowed_perf"],
        "cn_add_leakage": d["leakage"] * want_cn * (1.0 - licensed),
        "cn_add_domestic": ops.minimum(
            d["domestic_output_h100e_potential"] * d["domestic_yield"], d["hbm_cap_h100e"]
        ),
    }


def closed_form_stocks(ops: SimpleNamespace, flows: dict, retirement, pre_growth: float, n: int):
    """``K(t) = (1-d) K(t-1) + A(t)`` for every stock in closed form (one draw).

    ``K = M A + (1-d)^(t+1) K0`` with ``K0 = A(0) r / (1 - r)``, ``r = (1-d) / pre_growth``:
    the stock before the first year grew with its additions at ``pre_growth`` per year.
    """
    lag = np.subtract.outer(np.arange(n), np.arange(n))
    keep = 1.0 - retirement
    decay = ops.where(lag >= 0, ops.exp(ops.log(keep) * np.maximum(lag, 0)), 0.0)
    carry = ops.exp(ops.log(keep) * np.arange(1, n + 1))
    ratio = keep / pre_growth
    return {
        stock: ops.dot(decay, flows[flow]) + carry * flows[flow][0] * ratio / (1.0 - ratio)
        for stock, flow in STOCKS.items()
    }


def _us_additions(
    d: dict, t: int, want: np.ndarray, power_keep: np.ndarray, planned_keep: np.ndarray
):
    """US additions in year ``t`` before sharing world supply, the binding limit's code, and
    the US order that sets China's share of world supply: what money buys within the power
    the envelope adds this year if it was full last year (``planned_keep``: the envelope
    kept after retirement; after the data, the power in use), so no lever on China reaches
    it through the US's earlier additions."""
    money = want * np.minimum(1.0, d["us_capex_ceiling_usd_bn"][:, t] / d["us_capex_usd_bn"][:, t])
    per_gw = 1e6 / d["kw_per_h100e"][:, t]
    power = np.maximum(d["us_power_gw"][:, t] - power_keep, 0.0) * per_gw
    order = np.minimum(money, np.maximum(d["us_power_gw"][:, t] - planned_keep, 0.0) * per_gw)
    options = np.stack([want, money, power])  # money <= want: ties go to the lower code
    return options.min(axis=0), options.argmin(axis=0), order


def china_channels(d: dict, s: dict) -> dict:
    """China's licensed and smuggled foreign additions and its unserved dollars.

    Licensed purchases: the licensed share of demand, less China's own restriction
    (customs holds, guidance), at the licensed chip's performance per dollar. Restricted
    demand seeks smuggled chips (the fitted ``leakage`` rate, fewer when the premium rises
    above its base) up to the smuggling capacity left by enforcement. What is neither
    licensed nor smuggled is unserved (USD bn); part of it may turn to domestic chips.

    Parameters
    ----------
    d : dict
        Drivers (any broadcastable shape).
    s : dict
        ``smuggling_price_factor0`` (shaped to broadcast with ``d``).
    """
    price, demand = d["price_usd_per_h100e"], d["cn_demand_usd_bn"]
    licensed, restriction = d["licensed_share"], d["cn_import_restriction"]
    factor = d["smuggling_price_factor"]
    restricted = demand * (1.0 - licensed)
    want = d["leakage"] * restricted * 1e9 / price * s["smuggling_price_factor0"] / factor
    capacity = d["smuggling_capacity_h100e"] * (1.0 - d["enforcement"])
    smuggled = np.minimum(want, capacity)
    spent = smuggled * price * factor / 1e9
    bought = demand * licensed * (1.0 - restriction)
    return {
        "cn_add_licensed": bought * 1e9 * d["allowed_perf"] / price,
        "cn_add_leakage": smuggled,
        "capped": capacity < want,
        "unserved_usd_bn": np.maximum(restricted + demand * licensed * restriction - spent, 0.0),
    }


def _domestic_additions(d: dict, s: dict, t: int, stockpile: np.ndarray, extra: np.ndarray):
    """China's domestic additions in year ``t`` and the code of the limit that binds.

    ``extra``: domestic H100e demanded beyond the trend (substitution from unserved demand).
    """
    yield_ = d["domestic_yield"][:, t]
    wafers = d["cn_wafer_capacity_wpm"][:, t] * s["cn_h100e_per_wafer"] * yield_
    output = d["cn_hbm_output_stacks"][:, t]
    cap = d["hbm_cap_h100e"][:, t]
    mechanism = (output + stockpile) / s["hbm_stacks_per_h100e"]
    hbm = np.where(np.isfinite(cap), cap, mechanism)
    demand = np.maximum(d["domestic_output_h100e_potential"][:, t] * yield_ + extra, 0.0)
    options = np.stack([demand, wafers, hbm])
    return options.min(axis=0), options.argmin(axis=0)


def roll_forward(
    d: dict,
    s: dict,
    hist: dict,
    frozen: np.ndarray,
    limited: np.ndarray,
    hbm_index: int,
) -> dict:
    """Flows, stocks and binding limits over the year grid (numpy reference of the kernel).

    Parameters
    ----------
    d : dict
        Every name of :data:`DRIVERS`, shape (row, year).
    s : dict
        Every name of :data:`SCALARS`, shape (row,).
    hist : dict
        Stocks and flows of the data years (:data:`STOCKS` and :data:`FLOWS`), shape
        (row, year); used where ``frozen`` and at the first year.
    frozen : numpy.ndarray of bool, (row, year)
        Years kept exactly as the posterior has them (data years before a scenario's start).
    limited : numpy.ndarray of bool, (year,)
        Years in which the physical limits apply (after the data).
    hbm_index : int
        Index of the year at whose end the HBM stockpile is measured (-1: not known, so no
        HBM limit); domestic additions draw it down from the next year on.

    Returns
    -------
    dict of str to numpy.ndarray
        :data:`FLOWS` and :data:`STATE`, shape (row, year). Binding codes index
        :data:`US_LIMITS`, :data:`CN_LIMITS` and :data:`CN_FOREIGN_LIMITS`.
    """
    n_rows, n_years = frozen.shape
    want = demand_flows(NP, d)
    out = {name: np.zeros((n_rows, n_years)) for name in (*FLOWS, *STATE)}
    keep = 1.0 - s["retirement"]
    stock = {k: np.zeros(n_rows) for k in STOCKS}
    power_used = np.zeros(n_rows)
    planned_used = np.zeros(n_rows)  # last year's full envelope (in the data: power in use)
    stockpile = np.full(n_rows, np.inf)
    for t in range(n_years):
        flows = {f: want[f][:, t] for f in FLOWS}
        if limited[t]:
            now = {name: values[:, t] for name, values in d.items()}
            china = china_channels(now, s)
            flows["cn_add_licensed"] = china["cn_add_licensed"]
            flows["cn_add_leakage"] = china["cn_add_leakage"]
            extra = now["substitution"] * (
                china["unserved_usd_bn"] - now["cn_unserved_base_usd_bn"]
            )
            extra = extra * 1e9 / (now["price_usd_per_h100e"] * s["domestic_price_factor"])
            out["us_capex_usd_bn"][:, t] = np.minimum(
                now["us_capex_usd_bn"], now["us_capex_ceiling_usd_bn"]
            )
            us, code, order = _us_additions(
                d, t, flows["us_add"], keep * power_used, keep * planned_used
            )
            # World supply less the rest of the world's share: China's foreign chips get their
            # share in proportion to orders (the US order against a full envelope, see
            # _us_additions), so China's levers act on China's flows through this year's
            # drivers alone; the US takes what China leaves, up to its own limits.
            room = d["world_supply_h100e"][:, t] * (1.0 - d["row_share"][:, t])
            foreign = flows["cn_add_licensed"] + flows["cn_add_leakage"]
            scale = np.minimum(1.0, room / np.maximum(order + foreign, 1e-300))
            us_room = room - foreign * scale
            flows["us_add"] = np.minimum(us, us_room)
            out["binding_us"][:, t] = np.where(us_room < us, 3, code)
            out["binding_cn_foreign"][:, t] = np.where(scale < 1.0, 2, china["capped"])
            flows["cn_add_licensed"] = flows["cn_add_licensed"] * scale
            flows["cn_add_leakage"] = flows["cn_add_leakage"] * scale
            flows["cn_add_domestic"], out["binding_cn"][:, t] = _domestic_additions(
                d, s, t, stockpile, extra
            )
        else:
            out["us_capex_usd_bn"][:, t] = d["us_capex_usd_bn"][:, t]
        fixed = frozen[:, t] | (t == 0)
        for k, f in STOCKS.items():
            flows[f] = np.where(fixed, hist[f][:, t], flows[f])
            stock[k] = np.where(fixed, hist[k][:, t], keep * stock[k] + flows[f])
            out[k][:, t] = stock[k]
            out[f][:, t] = flows[f]
        new_power = flows["us_add"] * d["kw_per_h100e"][:, t] / 1e6
        power_used = np.where(t == 0, stock["us_h100e"] * d["kw_per_h100e"][:, t] / 1e6,
                              keep * power_used + new_power)  # fmt: skip
        planned_used = d["us_power_gw"][:, t] if limited[t] else power_used
        used_stacks = flows["cn_add_domestic"] * s["hbm_stacks_per_h100e"]
        drawn = np.maximum(used_stacks - d["cn_hbm_output_stacks"][:, t], 0.0)
        stockpile = np.where(t == hbm_index, s["hbm_stockpile_stacks"],
                             np.maximum(stockpile - drawn, 0.0))  # fmt: skip
        out["us_power_gw"][:, t] = power_used
        out["hbm_stockpile_stacks"][:, t] = stockpile
    return out


#: Posterior paths over the data years that the forward model starts from, (draw, year).
HISTORY: tuple[str, ...] = (
    *STOCKS, *FLOWS, "us_capex_usd_bn", "us_accel_share", "price_usd_per_h100e",
    "cn_demand_usd_bn", "licensed_share", "allowed_perf", "leakage",
    "domestic_output_h100e_potential", "domestic_yield", "hbm_cap_h100e",
)  # fmt: skip
#: Control-attributed effects over the data years, from the fitted intervention effects,
#: (draw, year): ``domestic_push_log`` is the log of domestic output that the export-control
#: events' growth shifts added (0 before the first event).
CONTROL_HISTORY: tuple[str, ...] = ("domestic_push_log",)
#: Per-draw parameters of the world's dynamics beyond the data, (draw,).
DYNAMICS: tuple[str, ...] = (
    "retirement", "us_capex_slope", "us_capex_slope_sd", "us_capex_level_sd",
    "capex_damping", "capex_growth_longrun", "capex_ocf_multiple", "ocf_growth",
    "price_decline", "cn_demand_growth", "cn_demand_sd", "domestic_growth", "domestic_growth_sd",
    "power_slack", "us_power_build_gw", "us_power_build_growth", "kw_per_h100e_ref",
    "efficiency_gain", "supply_slack", "packaging_plan_growth", "packaging_supply_growth",
    "h100e_per_wafer_growth", "row_share", "cn_wafer_plan_factor", "cn_wafer_capacity_growth",
    "cn_h100e_per_wafer", "cn_hbm_output_growth", "smuggling_capacity_slack",
    "smuggling_capacity_growth", "smuggling_price_factor", "substitution",
    "licensed_price_decline", "domestic_price_factor", "us_utilization", "cn_utilization",
    "domestic_push_growth",
)  # fmt: skip
#: Data anchors of the forward model (plain numbers from the shipped data).
ANCHORS: tuple[str, ...] = (
    "us_ocf_usd_bn", "us_ocf_year", "kw_ref_year", "hbm_stockpile_stacks",
    "hbm_stockpile_year", "hbm_stacks_per_h100e", "cn_hbm_output_stacks", "cn_hbm_output_year",
)  # fmt: skip
#: Shocks drawn per draw and future year, in this order (one generator call).
SHOCKS: tuple[str, ...] = ("us_capex_slope", "us_capex_level", "cn_demand", "domestic")
#: Drivers that hold their last data-year value beyond the data (the rules in force).
HELD: tuple[str, ...] = ("us_accel_share", "licensed_share", "leakage", "domestic_yield")
#: Per-draw parameters held constant over the years (levers may change them).
CONSTANT: tuple[str, ...] = (
    "smuggling_price_factor", "substitution", "us_utilization", "cn_utilization",
)  # fmt: skip


@dataclass(frozen=True)
class ProjectionInputs:
    """Posterior draws of everything the forward model needs (:func:`extend`); a fitted
    model gives them (``Fit.projection_inputs``).

    The identities of :func:`demand_flows` and the stock recursion hold exactly (to
    rounding) in ``hist``.

    Attributes
    ----------
    years : numpy.ndarray
        The fitted years.
    n_full : int
        Leading years with complete filings (later ones hold guidance only).
    hist : dict
        :data:`HISTORY` and :data:`CONTROL_HISTORY`, each (draw, year).
    dynamics : dict
        :data:`DYNAMICS`, each (draw,): the posterior's own dynamics (the
        capex trend's last slope and its shocks, price decline, China's demand and domestic
        growth with their shocks, retirement) and the world's priors
        (:data:`forecast.model.config.WORLD`).
    anchors : dict
        Data anchors (:attr:`forecast.model.observations.Design.anchors`).
    wafer_plan : dict
        China's wafer capacity by year (:attr:`forecast.model.observations.Design.wafer_plan`).
    """

    years: np.ndarray
    n_full: int
    hist: dict
    dynamics: dict
    anchors: dict
    wafer_plan: dict


@dataclass(frozen=True)
class World:
    """Everything the forward model needs over data years and projection, per draw.

    Attributes
    ----------
    years : numpy.ndarray
        Data years, then projection years.
    n_history : int
        Number of data years (complete filings, then guidance years).
    n_full : int
        Number of leading years with complete filings: kept as fitted; the limits apply after.
    drivers : dict
        :data:`DRIVERS`, (draw, year).
    scalars : dict
        :data:`SCALARS`, (draw,).
    hist : dict
        :data:`STOCKS` and :data:`FLOWS` as fitted, (draw, year) (NaN beyond the data).
    limited : numpy.ndarray of bool
        Years in which the limits apply.
    hbm_index : int
        See :func:`roll_forward`.
    licensed_ageing : numpy.ndarray
        (draw,) log decline per year of a fixed licensed chip's performance per dollar
        against the frontier (the frontier's price decline less the chip's own).
    domestic_push_log : numpy.ndarray
        (draw, year) log of domestic output added by the export controls' push (the fitted
        growth shifts, carried on at the last data year's shift): what a scenario without
        that push takes away (the ``domestic_push`` lever).
    """

    years: np.ndarray
    n_history: int
    n_full: int
    drivers: dict
    scalars: dict
    hist: dict
    limited: np.ndarray
    hbm_index: int
    licensed_ageing: np.ndarray
    domestic_push_log: np.ndarray

    @property
    def n_draws(self) -> int:
        """Number of draws."""
        return self.scalars["retirement"].shape[0]

    def frozen(self) -> np.ndarray:
        """(draw, year): the complete-data years, kept exactly as the posterior has them."""
        return np.broadcast_to(np.arange(len(self.years)) < self.n_full,
                               (self.n_draws, len(self.years)))  # fmt: skip


def _power_in_use(us_h100e: np.ndarray, us_add: np.ndarray, kw: np.ndarray, keep: np.ndarray):
    """GW drawn by the US stock at the end of the last year given (retired chips free theirs)."""
    power = us_h100e[:, 0] * kw[:, 0] / 1e6
    for t in range(1, us_add.shape[1]):
        power = keep * power + us_add[:, t] * kw[:, t] / 1e6
    return power


def _damped_capex(last_level: np.ndarray, p: dict, eps: np.ndarray) -> np.ndarray:
    """Capex beyond the data: a local linear trend whose slope reverts to a long-run rate.

    ``level(t) = level(t-1) + slope(t-1) + level_sd e2`` and
    ``slope(t) = g + phi (slope(t-1) - g) + slope_sd e1`` (``phi = 1``: the model's trend).
    """
    level, slope = np.log(last_level), p["us_capex_slope"]
    out = np.empty(eps.shape[1:])
    for k in range(eps.shape[2]):
        level = level + slope + p["us_capex_level_sd"] * eps[1, :, k]
        slope = (
            p["capex_growth_longrun"]
            + p["capex_damping"] * (slope - p["capex_growth_longrun"])
            + p["us_capex_slope_sd"] * eps[0, :, k]
        )
        out[:, k] = level
    return np.exp(out)


def _wafer_path(plan: dict, years: np.ndarray, p: dict) -> np.ndarray:
    """China's wafer capacity over ``years``: the plan x realised fraction, then growth.

    With no capacity figure in the data the limit is unknown: infinite capacity.
    """
    if not plan:
        return np.full((len(p["retirement"]), len(years)), np.inf)
    known = np.array(sorted(plan))
    planned = np.interp(years, known, [plan[y] for y in known])
    beyond = np.maximum(years - known[-1], 0)
    factor = p["cn_wafer_plan_factor"][:, None]
    return planned * factor * np.exp(p["cn_wafer_capacity_growth"][:, None] * beyond)


def extend(inputs: ProjectionInputs, horizon: int, rng: np.random.Generator) -> World:
    """The model's world from the data years to ``horizon`` (one call: one future).

    Capex follows the damped trend under the financing ceiling; price falls at the
    price-performance rate; China's demand and domestic output continue their random walks
    (with their shocks); shares, yields and controls in force stay; the limits (power
    envelope, world chip supply, China's wafers and HBM) grow from what the last complete
    data year used.

    Parameters
    ----------
    inputs : ProjectionInputs
        ``years``, ``n_full``, ``hist`` (:data:`HISTORY` and
        :data:`CONTROL_HISTORY`), ``dynamics`` (:data:`DYNAMICS`),
        ``anchors`` (:data:`ANCHORS`) and ``wafer_plan`` ({year: wafers per month}).
    horizon : int
        Last projected year (>= the last data year).
    rng : numpy.random.Generator
        Draws the shocks (:data:`SHOCKS`), shared by all scenarios: paired draws.
    """
    hist, p, a = inputs.hist, inputs.dynamics, inputs.anchors
    data_years = np.asarray(inputs.years).astype(int)
    n_draws, n_hist = hist["us_h100e"].shape
    n_full, n_future = int(inputs.n_full), max(horizon - int(data_years[-1]), 0)
    years = np.concatenate([data_years, data_years[-1] + np.arange(1, n_future + 1)])
    eps = rng.standard_normal((len(SHOCKS), n_draws, n_future))
    col = lambda name: np.asarray(p[name], dtype=float)[:, None]  # noqa: E731
    ahead = np.arange(1, n_future + 1)

    def walk(name, growth, sd=None, shock=0):
        steps = col(growth) + (col(sd) * eps[shock] if sd else 0.0)
        path = hist[name][:, -1:] * np.exp(np.cumsum(steps * np.ones(n_future), axis=1))
        return np.concatenate([hist[name], path], axis=1)

    d = {name: np.concatenate([hist[name], np.repeat(hist[name][:, -1:], n_future, 1)], 1)
         for name in HELD}  # fmt: skip
    d["us_capex_usd_bn"] = np.concatenate(
        [hist["us_capex_usd_bn"], _damped_capex(hist["us_capex_usd_bn"][:, -1], p, eps)], 1
    )
    d["price_usd_per_h100e"] = np.concatenate(
        [
            hist["price_usd_per_h100e"],
            hist["price_usd_per_h100e"][:, -1:] * np.exp(-col("price_decline") * ahead),
        ],
        1,
    )
    # China's buyers are hyperscalers under the same money limits: their growth in spending
    # on foreign accelerators reverts to the long-run rate as fast as US capex growth does.
    reverting = (
        p["capex_growth_longrun"][:, None]
        + (p["cn_demand_growth"] - p["capex_growth_longrun"])[:, None]
        * p["capex_damping"][:, None] ** ahead
    )
    d["cn_demand_usd_bn"] = np.concatenate(
        [hist["cn_demand_usd_bn"], hist["cn_demand_usd_bn"][:, -1:] * np.exp(
            np.cumsum(reverting + col("cn_demand_sd") * eps[2], axis=1))], 1)  # fmt: skip
    d["domestic_output_h100e_potential"] = walk(
        "domestic_output_h100e_potential", "domestic_growth", "domestic_growth_sd", 3
    )
    d["hbm_cap_h100e"] = np.concatenate([hist["hbm_cap_h100e"],
                                         np.full((n_draws, n_future), np.inf)], 1)  # fmt: skip
    # A licensed chip is a fixed chip: its performance per dollar falls behind the frontier.
    ageing = np.asarray(p["price_decline"], float) - np.asarray(p["licensed_price_decline"], float)
    d["allowed_perf"] = np.concatenate(
        [hist["allowed_perf"], hist["allowed_perf"][:, -1:] * np.exp(-ageing[:, None] * ahead)], 1
    )
    d.update(_limits(hist, p, a, years, n_full))
    d["cn_wafer_capacity_wpm"] = np.where(
        years > data_years[n_full - 1], _wafer_path(inputs.wafer_plan, years, p), np.inf
    )
    hbm_age = years - a["cn_hbm_output_year"]
    d["cn_hbm_output_stacks"] = (hbm_age >= 0) * a["cn_hbm_output_stacks"] * np.exp(
        col("cn_hbm_output_growth") * np.maximum(hbm_age, 0)
    )  # fmt: skip
    d.update({name: col(name) * np.ones(len(years)) for name in CONSTANT})
    d["enforcement"] = np.zeros((n_draws, len(years)))
    d["cn_import_restriction"] = np.zeros((n_draws, len(years)))
    smuggled = hist["cn_add_leakage"][:, n_full - 1 : n_full]
    k = np.maximum(years - data_years[n_full - 1], 0)
    capacity = smuggled * np.exp(col("smuggling_capacity_slack")
                                 + col("smuggling_capacity_growth") * (k - 1))  # fmt: skip
    d["smuggling_capacity_h100e"] = np.where(k > 0, capacity, np.inf)
    scalars = {
        "smuggling_price_factor0": np.asarray(p["smuggling_price_factor"], dtype=float),
        "domestic_price_factor": np.asarray(p["domestic_price_factor"], dtype=float),
        "retirement": np.asarray(p["retirement"], dtype=float),
        "cn_h100e_per_wafer": np.asarray(p["cn_h100e_per_wafer"], dtype=float),
        "hbm_stacks_per_h100e": np.full(n_draws, a["hbm_stacks_per_h100e"]),
        "hbm_stockpile_stacks": np.full(n_draws, a["hbm_stockpile_stacks"]),
    }
    pad = np.full((n_draws, n_future), np.nan)
    past = {k: np.concatenate([hist[k], pad], 1) for k in (*STOCKS, *FLOWS)}
    stockpile_year = a["hbm_stockpile_year"]
    hbm_index = int(stockpile_year - years[0]) if np.isfinite(stockpile_year) else -1
    base = china_channels(
        d, {"smuggling_price_factor0": scalars["smuggling_price_factor0"][:, None]}
    )
    d["cn_unserved_base_usd_bn"] = base["unserved_usd_bn"]
    limited = np.arange(len(years)) >= n_full
    push = hist["domestic_push_log"]
    push = np.concatenate([push, push[:, -1:] + col("domestic_push_growth") * ahead], 1)
    return World(years, n_hist, n_full, d, scalars, past, limited, hbm_index, ageing, push)


def _limits(hist: dict, p: dict, a: dict, years: np.ndarray, n_full: int) -> dict:
    """Financing ceiling, power envelope, kW per new H100e and world supply over ``years``.

    Infinite (not applied) in the complete-data years; from the next year on they grow
    from what the last complete year used.
    """
    n_draws = hist["us_h100e"].shape[0]
    col = lambda name: np.asarray(p[name], dtype=float)[:, None]  # noqa: E731
    later = np.arange(len(years)) >= n_full
    k = np.maximum(years - years[n_full - 1], 0)  # years after the last complete one
    ceiling = col("capex_ocf_multiple") * a["us_ocf_usd_bn"] * np.exp(
        col("ocf_growth") * (years - a["us_ocf_year"])
    )  # fmt: skip
    kw = col("kw_per_h100e_ref") * np.exp(-col("efficiency_gain") * (years - a["kw_ref_year"]))
    keep = 1.0 - np.asarray(p["retirement"], dtype=float)
    in_use = _power_in_use(hist["us_h100e"][:, :n_full], hist["us_add"][:, :n_full],
                           kw[:, :n_full], keep)  # fmt: skip
    build = col("us_power_build_gw") * np.exp(col("us_power_build_growth") * (k - 1))
    slack = np.exp(np.maximum(col("power_slack"), 0.0))  # never below what is installed
    envelope = in_use[:, None] * slack + np.cumsum(build * later, axis=1)
    last = n_full - 1
    row = col("row_share")
    bought = (
        hist["us_add"][:, last] + hist["cn_add_licensed"][:, last] + hist["cn_add_leakage"][:, last]
    )
    growth = np.where(k == 1, col("packaging_plan_growth"), col("packaging_supply_growth"))
    growth = (growth + col("h100e_per_wafer_growth")) * later
    supply = bought[:, None] / (1.0 - row) * np.exp(col("supply_slack") + np.cumsum(growth, 1))
    inf = np.inf * np.ones((n_draws, len(years)))
    return {
        "us_capex_ceiling_usd_bn": np.where(later, ceiling, inf),
        "us_power_gw": np.where(later, envelope, inf),
        "kw_per_h100e": kw,
        "world_supply_h100e": np.where(later, supply, inf),
        "row_share": np.where(later, row, 0.0),
    }


def project_world(world: World) -> dict:
    """:func:`roll_forward` over a :class:`World` with its complete-data years kept."""
    return roll_forward(
        world.drivers, world.scalars, world.hist, world.frozen(), world.limited, world.hbm_index
    )
