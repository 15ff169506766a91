"""WHAT the model is: the stock-flow core of DESIGN.md as a PyMC model and as a numpy simulator.

Latent yearly drivers (log or logit scale, random walks with non-centred innovations)::

    log capex_US       local linear trend (level + slope random walks)
    logit a_US         random walk with drift
    log p              linear decline from the reference year
    log demand_CN      random walk with drift
    logit licensed     base + export-control shifts          (interventions)
    logit allowed_perf base + export-control shifts
    logit leakage      random walk + shifts
    log output_dom     random walk with drift + growth shifts
    logit yield        linear trend

give the flows and stocks through the identities of :mod:`forecast.core`
(:func:`~forecast.core.demand_flows`, :func:`~forecast.core.closed_form_stocks`), evaluated
with PyTensor inside the model and with numpy in :func:`simulate`, so the simulator is the
model's generative process, not a twin. Beyond the data the same core carries the world
forward under its physical limits (:func:`forecast.model.predict.posterior_predictive`).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy import special

from forecast.core import STOCKS, closed_form_stocks, demand_flows
from forecast.model.config import ModelConfig
from forecast.model.observations import INTERVAL, LOWER, POINT, UPPER, Design
from forecast.model.observations import QUANTITIES as QUANTITIES  # what this module computes
from forecast.priors import Prior

#: The local linear trend of log US capex (prefix of its variables).
CAPEX_TREND = "us_capex"
#: Its free variables besides the priors: slope and level innovations.
TREND_VARIABLES = (f"{CAPEX_TREND}_slope_z", f"{CAPEX_TREND}_level_z")
#: Random-walk innovations (standard normal, one per year after the first).
INNOVATIONS: tuple[str, ...] = (
    "us_accel_share_z", "cn_demand_z", "leakage_z", "domestic_z",
)  # fmt: skip

_NP = SimpleNamespace(
    exp=np.exp, log=np.log, sigmoid=special.expit, cumsum=np.cumsum, minimum=np.minimum,
    where=np.where, dot=np.dot, stack=np.stack,
    prepend_zero=lambda x: np.concatenate([np.zeros(1), x]),
)  # fmt: skip
_PT = SimpleNamespace(
    exp=pt.exp, log=pt.log, sigmoid=pt.sigmoid, cumsum=pt.cumsum, minimum=pt.minimum,
    where=pt.switch, dot=pt.dot, stack=pt.stack,
    prepend_zero=lambda x: pt.concatenate([pt.zeros(1), x]),
)  # fmt: skip


def _walk(ops: SimpleNamespace, start, steps):
    """``start`` followed by ``start + cumsum(steps)`` (length ``len(steps) + 1``)."""
    return start + ops.cumsum(ops.prepend_zero(steps))


def domestic_push(effects: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray]:
    """The export controls' push to China's domestic output, per draw.

    Parameters
    ----------
    effects : numpy.ndarray
        Intervention effects, (draw, intervention) in ``design.interventions`` order.
    design : Design

    Returns
    -------
    push_log : numpy.ndarray
        (draw, year): log of domestic output the ``domestic_growth`` shifts added by each
        data year (the cumulated shifts; 0 in the first year).
    push_growth : numpy.ndarray
        (draw,): the shift in force in the last data year (it goes on beyond the data).
    """
    effects = np.asarray(effects, dtype=float).reshape(len(effects), -1)
    rows = [i for i, (_, c) in enumerate(design.interventions) if c == "domestic_growth"]
    shift = effects[:, rows] @ design.ramps[rows]  # (draw, 0) @ (0, year) = 0 without rows
    push_log = np.concatenate([np.zeros((len(effects), 1)), np.cumsum(shift[:, 1:], 1)], 1)
    return push_log, shift[:, -1]


def _shift(effects, design: Design, channel: str):
    """Sum of the intervention effects on ``channel`` per year (zeros if none)."""
    rows = [i for i, (_, c) in enumerate(design.interventions) if c == channel]
    total = np.zeros(len(design.years))
    for i in rows:
        total = total + effects[i] * design.ramps[i]
    return total


def trend_slope(ops: SimpleNamespace, slope0, slope_sd, slope_z):
    """Slope of a local linear trend: a random walk with non-centred innovations."""
    return _walk(ops, slope0, slope_sd * slope_z)


def local_linear_trend(prefix: str, config: ModelConfig):
    """Add a local linear trend to the current PyMC model; return (level, slope).

    ``slope[t] = slope[t-1] + slope_sd * z[t]`` (non-centred) and
    ``level[t] = level[t-1] + slope[t-1] + level_sd * level_z[t]`` (non-centred too: a centred
    level step funnels when the data cannot tell level noise from observation noise). This
    is statsmodels' ``"local linear trend"``.
    Priors are ``config.priors[prefix + "_level0" | "_slope0" | "_level_sd" | "_slope_sd"]``;
    the model needs a ``step`` dimension (one per year after the first).
    """
    p = {k: config.priors[f"{prefix}_{k}"].create_variable(f"{prefix}_{k}")
         for k in ("level0", "slope0", "level_sd", "slope_sd")}  # fmt: skip
    slope_z = pm.Normal(f"{prefix}_slope_z", 0.0, 1.0, dims="step")
    slope = trend_slope(_PT, p["slope0"], p["slope_sd"], slope_z)
    level_z = pm.Normal(f"{prefix}_level_z", 0.0, 1.0, dims="step")
    return _walk(_PT, p["level0"], slope[:-1] + p["level_sd"] * level_z), slope


def drivers(ops: SimpleNamespace, p: dict, design: Design, config: ModelConfig) -> dict:
    """The latent driver paths from the raw parameters ``p`` (one draw)."""
    t = design.years - config.ref_year
    effects = p["effects"]
    slope = trend_slope(ops, p["us_capex_slope0"], p["us_capex_slope_sd"], p["us_capex_slope_z"])
    level = _walk(
        ops, p["us_capex_level0"], slope[:-1] + p["us_capex_level_sd"] * p["us_capex_level_z"]
    )
    a_steps = p["us_accel_share_drift"] + p["us_accel_share_sd"] * p["us_accel_share_z"]
    dom_growth = p["domestic_growth"] + _shift(effects, design, "domestic_growth")[1:]
    return {
        "us_capex_usd_bn": ops.exp(level),
        "us_capex_slope": slope,
        "us_accel_share": ops.sigmoid(_walk(ops, p["us_accel_share0"], a_steps)),
        "price_usd_per_h100e": ops.exp(p["price_log_ref"] - p["price_decline"] * t),
        "cn_demand_usd_bn": ops.exp(
            _walk(
                ops, p["cn_demand0"], p["cn_demand_growth"] + p["cn_demand_sd"] * p["cn_demand_z"]
            )
        ),
        "licensed_share": ops.sigmoid(
            p["licensed_share0"] + _shift(effects, design, "licensed_share")
        ),
        "allowed_perf": ops.sigmoid(p["allowed_perf0"] + _shift(effects, design, "allowed_perf")),
        "leakage": ops.sigmoid(
            _walk(ops, p["leakage0"], p["leakage_sd"] * p["leakage_z"])
            + _shift(effects, design, "leakage")
        ),
        "domestic_output_h100e_potential": ops.exp(
            _walk(ops, p["domestic0"], dom_growth + p["domestic_growth_sd"] * p["domestic_z"])
        ),
        "domestic_yield": ops.sigmoid(
            p["domestic_yield_ref"] + p["domestic_yield_trend"] * (t - 1)
        ),
        "hbm_cap_h100e": ops.where(
            design.hbm_capped, ops.exp(p["hbm_cap_log"]) + 0.0 * t, config.hbm_cap_free
        ),
    }


def quantities(ops: SimpleNamespace, p: dict, design: Design, config: ModelConfig) -> dict:
    """Every quantity of :data:`QUANTITIES` (plus ``us_capex_slope``) for one draw."""
    q = drivers(ops, p, design, config)
    q.update(demand_flows(ops, q))
    q.update(
        closed_form_stocks(ops, q, p["retirement"], config.pre_sample_growth, len(design.years))
    )
    price = q["price_usd_per_h100e"]
    q["us_accel_spend_usd_bn"] = q["us_capex_usd_bn"] * q["us_accel_share"]
    foreign = q["cn_add_licensed"] + q["cn_add_leakage"]
    q["cn_add"] = foreign + q["cn_add_domestic"]
    q["cn_h100e"] = q["cn_licensed_h100e"] + q["cn_leakage_h100e"] + q["cn_domestic_h100e"]
    q["cn_licensed_spend_usd_bn"] = q["cn_demand_usd_bn"] * q["licensed_share"]
    q["cn_domestic_spend_usd_bn"] = (
        q["cn_add_domestic"] * price * ops.exp(p["domestic_price_ratio"]) / 1e9
    )
    q["cn_accel_spend_usd_bn"] = (
        q["cn_licensed_spend_usd_bn"]
        + q["leakage"] * q["cn_demand_usd_bn"] * (1.0 - q["licensed_share"])
        + q["cn_domestic_spend_usd_bn"]
    )
    q["licensed_price_per_h100e"] = price / q["allowed_perf"]
    q["cn_foreign_share_add"] = foreign / q["cn_add"]
    q["cn_domestic_share_add"] = q["cn_add_domestic"] / q["cn_add"]
    q["cn_leakage_share_stock"] = q["cn_leakage_h100e"] / q["cn_h100e"]
    q["us_share_stock"] = q["us_h100e"] / (q["us_h100e"] + q["cn_h100e"])
    q["cn_us_ratio"] = q["cn_h100e"] / q["us_h100e"]
    return q


def predicted(ops: SimpleNamespace, q: dict, p: dict, design: Design):
    """Mean of every observation on its noise scale (log or share)."""
    obs = design.obs
    names = sorted(set(obs.quantity))
    rows = np.array([names.index(name) for name in obs.quantity])
    table = ops.stack([q[name] for name in names])  # (quantity, year)
    base = (table[rows] * obs.weights).sum(axis=1) * obs.scale
    factor = ops.exp(ops.dot(obs.factors, p["log_factors"])) if obs.factors.shape[1] else 1.0
    mean = base * factor
    return ops.where(obs.log, ops.log(mean), mean)


def _vector_rv(name: str, priors: list[Prior], dim: str):
    """One vector RV of independent priors (or a constant if empty)."""
    if not priors:
        return np.zeros(0)
    return Prior.stack(priors).create_variable(name, dims=dim)


def _log_ndtr(z):
    """log Phi(z), stable in both tails, with ops every backend has (no erfcx in JAX).

    Below -5 the asymptotic series ``-z^2/2 - log(-z sqrt(2 pi)) + log(1 - 1/z^2 + 3/z^4)``
    (relative error < 1e-4 there); each branch sees only inputs in its own range, so neither
    produces NaN gradients through the switch.
    """
    tail = pt.minimum(z, -5.0)
    body = pt.maximum(z, -5.0)
    asymptotic = (
        -0.5 * tail**2 - pt.log(-tail) - 0.5 * np.log(2 * np.pi)
        + pt.log1p(-1.0 / tail**2 + 3.0 / tail**4)
    )  # fmt: skip
    exact = pt.log(0.5 * pt.erfc(-body / np.sqrt(2.0)))
    return pt.switch(z < -5.0, asymptotic, exact)


def _bounds_logp(mu, design: Design):
    """Log-likelihood of the interval and one-sided observations (normal CDFs)."""
    obs = design.obs
    terms = []
    for kind in (LOWER, UPPER, INTERVAL):
        idx = np.flatnonzero(obs.kind == kind)
        if not idx.size:
            continue
        mu_k, sd, low, high = mu[idx], obs.sd[idx], obs.low[idx], obs.high[idx]
        if kind == LOWER:  # log P(Y > low)
            terms.append(_log_ndtr((mu_k - low) / sd).sum())
        elif kind == UPPER:  # log P(Y < high)
            terms.append(_log_ndtr((high - mu_k) / sd).sum())
        else:  # log P(low < Y < high) = log(1 - P(Y < low) - P(Y > high))
            outside = pt.exp(_log_ndtr((low - mu_k) / sd)) + pt.exp(_log_ndtr((mu_k - high) / sd))
            terms.append(pt.log1p(-pt.minimum(outside, 1.0 - 1e-12)).sum())
    return pt.add(*terms) if terms else None


#: Quantities kept in the posterior (the tidy stock/flow table and projection inputs).
STORED = (
    *STOCKS, *STOCKS.values(), "us_capex_usd_bn", "us_accel_share", "price_usd_per_h100e",
    "cn_demand_usd_bn", "licensed_share", "allowed_perf", "leakage",
    "domestic_output_h100e_potential", "domestic_yield", "hbm_cap_h100e", "us_capex_slope",
)  # fmt: skip


def build_model(design: Design, config: ModelConfig) -> pm.Model:
    """The PyMC model of ``design`` under ``config``.

    Parameters
    ----------
    design : Design
        From :func:`forecast.model.observations.build_design`.
    config : ModelConfig

    Returns
    -------
    pymc.Model
        Free variables: the scalars of ``config.priors``, the innovations of
        :data:`INNOVATIONS` and :data:`TREND_VARIABLES` (dim ``step``), ``effects`` (dim
        ``intervention``) and
        ``log_factors`` (dim ``factor``). Deterministics: :data:`STORED` (dim ``year``) and
        ``obs_mean``, each observation's mean on its noise scale (dim ``observation``).
    """
    coords = {
        "year": design.years,
        "step": design.years[1:],
        "intervention": [f"{e}:{c}" for e, c in design.interventions],
        "factor": list(design.factor_names),
        "observation": np.arange(len(design.obs)),
    }
    effect_priors = {(i.event_id, i.channel): i.prior for i in config.interventions}
    with pm.Model(coords=coords) as model:
        local_linear_trend(CAPEX_TREND, config)
        p = {
            name: model[name] if name.startswith(CAPEX_TREND) else prior.create_variable(name)
            for name, prior in config.priors.items()
        }
        p.update({name: model[name] for name in TREND_VARIABLES})
        p.update({name: pm.Normal(name, 0.0, 1.0, dims="step") for name in INNOVATIONS})
        p["effects"] = _vector_rv(
            "effects", [effect_priors[k] for k in design.interventions], "intervention"
        )
        p["log_factors"] = _vector_rv(
            "log_factors", [config.factors[f] for f in design.factor_names], "factor"
        )
        q = quantities(_PT, p, design, config)
        for name in STORED:
            pm.Deterministic(name, q[name], dims="year")
        mu = pm.Deterministic("obs_mean", predicted(_PT, q, p, design), dims="observation")
        point = np.flatnonzero(design.obs.kind == POINT)
        pm.Normal("obs", mu[point], design.obs.sd[point], observed=design.obs.value[point])
        bounds = _bounds_logp(mu, design)
        if bounds is not None:
            pm.Potential("bounds", bounds)
    return model


def draw_world(config: ModelConfig, anchors: dict, n: int, rng: np.random.Generator) -> dict:
    """Per-draw parameters of the world beyond the data (:data:`ModelConfig.world`).

    Their posterior is their prior (the data describe the past); two are combined with chip
    figures: ``kw_per_h100e_ref`` (the reference chip's TDP per H100e x all-in overhead) and
    ``cn_h100e_per_wafer`` (12 months x AI share x gross dies x H100e per die, before yield).
    """
    world = {name: prior.sample(rng, n) for name, prior in config.world.items()}
    world["kw_per_h100e_ref"] = anchors["chip_kw_per_h100e"] * world.pop("power_overhead")
    world["cn_h100e_per_wafer"] = (
        12.0 * world.pop("cn_ai_wafer_share") * world.pop("cn_gross_dies_per_wafer")
        * anchors["domestic_h100e_per_die"]
    )  # fmt: skip
    return world


def draw_prior(design: Design, config: ModelConfig, rng: np.random.Generator) -> dict:
    """One draw of every free variable of :func:`build_model` from its prior (numpy)."""
    params = {name: prior.sample(rng) for name, prior in config.priors.items()}
    steps = len(design.years) - 1
    params.update({name: rng.standard_normal(steps) for name in INNOVATIONS})
    params.update({name: rng.standard_normal(steps) for name in TREND_VARIABLES})
    effect_priors = {(i.event_id, i.channel): i.prior for i in config.interventions}
    chosen = [effect_priors[k] for k in design.interventions]
    params["effects"] = Prior.stack(chosen).sample(rng)
    factors = [config.factors[f] for f in design.factor_names]
    params["log_factors"] = Prior.stack(factors).sample(rng)
    return params


def numpy_quantities(params: dict, design: Design, config: ModelConfig) -> dict:
    """:func:`quantities` with numpy for one draw of the raw parameters."""
    return quantities(_NP, params, design, config)


def simulate(
    params: dict, design: Design, config: ModelConfig, rng: np.random.Generator
) -> tuple[Design, dict]:
    """Simulate observations from the model's generative process.

    Parameters
    ----------
    params : dict
        One value per free variable of :func:`build_model` (e.g. a prior draw).
    design : Design
        Supplies years, interventions and where and how each series is observed.
    config : ModelConfig
    rng : numpy.random.Generator

    Returns
    -------
    (Design, dict)
        The design with simulated values (same kinds: a point stays a point; a range becomes
        a range of the same width at a random position around the simulated value; a bound
        lies a random distance below/above it), and the true quantities.
    """
    q = numpy_quantities(params, design, config)
    mu = predicted(_NP, q, params, design)
    obs = design.obs
    y = mu + obs.sd * rng.standard_normal(len(obs))
    share = ~obs.log
    y = np.where(share, np.clip(y, 1e-4, 1 - 1e-4), y)
    width = np.nan_to_num(obs.high - obs.low)
    offset = rng.uniform(size=len(obs)) * width
    gap = rng.exponential(obs.sd)
    low = np.where(obs.kind == INTERVAL, y - offset, np.where(obs.kind == LOWER, y - gap, np.nan))
    high = np.where(obs.kind == INTERVAL, low + width, np.where(obs.kind == UPPER, y + gap, np.nan))
    value = np.where(obs.kind == POINT, y, np.nan)
    return design.with_values(value, low, high), q
