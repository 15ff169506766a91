"""Synthetic posterior inputs for the scenario engine: known drivers, exact identities."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd

from forecast.core import CONTROL_HISTORY, DYNAMICS, HISTORY
from forecast.model.config import model_config
from forecast.model.fitting import ProjectionInputs
from forecast.model.stockflow import draw_world


def synthetic_inputs(
    n_draws: int = 200, first: int = 2015, last: int = 2025, seed: int = 1, loose: bool = False
) -> ProjectionInputs:
    """Drivers with per-draw noise; flows and stocks follow DESIGN.md's identities exactly.

    The world's parameters are drawn from the configured priors, or (``loose``) set so wide
    that no limit binds, except China's HBM (stockpile 10M stacks, 2M a year).
    """
    rng = np.random.default_rng(seed)
    years = np.arange(first, last + 1)
    t = (years - first)[None, :]
    noise = lambda sd: np.exp(sd * rng.standard_normal((n_draws, 1)))  # noqa: E731
    d = {
        "us_capex_usd_bn": 40.0 * np.exp(0.25 * t) * noise(0.1),
        "us_accel_share": np.full((n_draws, len(years)), 0.4),
        "price_usd_per_h100e": 60000.0 * np.exp(-0.15 * t) * noise(0.1),
        "cn_demand_usd_bn": 4.0 * np.exp(0.3 * t) * noise(0.2),
        "licensed_share": np.broadcast_to(
            np.interp(years, [2021, 2022, 2023], [1.0, 0.5, 0.2]), (n_draws, len(years))
        ).copy(),
        "allowed_perf": np.broadcast_to(
            np.interp(years, [2022, 2024], [1.0, 0.3]), (n_draws, len(years))
        ).copy(),
        "leakage": np.full((n_draws, len(years)), 0.15) * noise(0.3),
        "domestic_output_h100e_potential": 2e4 * np.exp(0.5 * t) * noise(0.2),
        "domestic_yield": np.full((n_draws, len(years)), 0.3),
        "hbm_cap_h100e": np.full((n_draws, len(years)), 5e6),
    }
    price = d["price_usd_per_h100e"]
    demand = d["cn_demand_usd_bn"] * 1e9 / price
    flows = {
        "us_add": d["us_capex_usd_bn"] * 1e9 * d["us_accel_share"] / price,
        "cn_add_licensed": demand * d["licensed_share"] * d["allowed_perf"],
        "cn_add_leakage": d["leakage"] * demand * (1 - d["licensed_share"]),
        "cn_add_domestic": np.minimum(
            d["domestic_output_h100e_potential"] * d["domestic_yield"], d["hbm_cap_h100e"]
        ),
    }
    retirement = np.full(n_draws, 0.2)
    stocks = {}
    for flow, stock in [("us_add", "us_h100e"), ("cn_add_licensed", "cn_licensed_h100e"),
                        ("cn_add_leakage", "cn_leakage_h100e"),
                        ("cn_add_domestic", "cn_domestic_h100e")]:  # fmt: skip
        k = np.empty_like(flows[flow])
        k[:, 0] = 2.0 * flows[flow][:, 0] + 1.0
        for i in range(1, len(years)):
            k[:, i] = (1 - retirement) * k[:, i - 1] + flows[flow][:, i]
        stocks[stock] = k
    dynamics = {
        "retirement": retirement,
        "us_capex_slope": np.full(n_draws, 0.2),
        "us_capex_slope_sd": np.full(n_draws, 0.03),
        "us_capex_level_sd": np.full(n_draws, 0.05),
        "price_decline": np.full(n_draws, 0.15),
        "cn_demand_growth": np.full(n_draws, 0.15),
        "cn_demand_sd": np.full(n_draws, 0.1),
        "domestic_growth": np.full(n_draws, 0.3),
        "domestic_growth_sd": np.full(n_draws, 0.15),
        "domestic_price_factor": np.full(n_draws, 1.3),
        **world_values(n_draws, rng, loose),
    }
    anchors = {
        "us_ocf_usd_bn": float(np.median(d["us_capex_usd_bn"][:, -1]) * 1.5),
        "us_ocf_year": float(last), "kw_ref_year": float(last),
        "hbm_stockpile_stacks": 1e7, "hbm_stockpile_year": float(last - 1),
        "hbm_stacks_per_h100e": 10.0, "cn_hbm_output_stacks": 2e6,
        "cn_hbm_output_year": float(last),
    }  # fmt: skip
    # the controls' push: +0.1 log a year on domestic output growth from 2023 (in d above)
    push = 0.1 * np.maximum(years - 2022, 0)[None, :] * np.ones((n_draws, 1))
    dynamics["domestic_push_growth"] = np.full(n_draws, 0.1)
    hist = {**d, **flows, **stocks, "domestic_push_log": push}
    assert set(hist) == {*HISTORY, *CONTROL_HISTORY} and set(dynamics) == set(DYNAMICS)
    plan = {last: 4e4, last + 1: 5e4, last + 2: 7e4}
    return ProjectionInputs(years, len(years), hist, dynamics, anchors, plan)


def world_values(n_draws: int, rng: np.random.Generator, loose: bool) -> dict:
    """World parameters: the configured priors' draws, or limits too wide to bind."""
    world = draw_world(model_config(), {"chip_kw_per_h100e": 0.475, "domestic_h100e_per_die": 0.4},
                       n_draws, rng)  # fmt: skip
    if loose:
        world.update(capex_ocf_multiple=np.full(n_draws, 1e6), power_slack=np.full(n_draws, 5.0),
                     supply_slack=np.full(n_draws, 5.0), cn_h100e_per_wafer=np.full(n_draws, 1e6),
                     us_power_build_gw=np.full(n_draws, 1e6),
                     smuggling_capacity_slack=np.full(n_draws, 20.0))  # fmt: skip
    return world


class SyntheticFit:
    """Stand-in for ``forecast.model.Fit``: synthetic posterior draws, a passed gate, no PyMC.

    ``forecast.model.fit`` replaced by :func:`synthetic_fit` lets the command line run, report
    and sweep in a fraction of a second.
    """

    divergences = 0
    passed = True
    from_cache = True
    seconds = 0.01
    cache_path = None

    def __init__(self, n_draws: int = 60) -> None:
        self.inputs = synthetic_inputs(n_draws=n_draws)
        self.design = SimpleNamespace(years=self.inputs.years)
        self.settings = {"sampler": "synthetic", "draws": n_draws, "chains": 1, "seed": 0}

    def diagnostics(self) -> pd.DataFrame:
        """A diagnostics table that passes the gate."""
        return pd.DataFrame(
            {"parameter": ["theta"], "r_hat": [1.0], "ess_bulk": [1000.0], "ess_tail": [900.0]}
        )

    def projection_inputs(self, n_draws: int | None = None, seed: int = 0) -> ProjectionInputs:
        """``n_draws`` of the synthetic draws (all by default), chosen with ``seed``."""
        total = len(self.inputs.dynamics["retirement"])
        pick = np.arange(total)
        if n_draws is not None:
            pick = np.random.default_rng(seed).choice(total, n_draws, replace=n_draws > total)
        return replace(
            self.inputs,
            hist={k: v[pick] for k, v in self.inputs.hist.items()},
            dynamics={k: v[pick] for k, v in self.inputs.dynamics.items()},
        )


def synthetic_fit(dataset: object, **options: object) -> SyntheticFit:
    """Drop-in for ``forecast.model.fit`` (the dataset and options are ignored)."""
    return SyntheticFit()
