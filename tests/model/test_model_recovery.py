"""Parameter recovery: fit histories simulated from the model's own generative process."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.data import load_dataset
from forecast.model.config import model_config
from forecast.model.fitting import FitSettings, sample_model
from forecast.model.observations import build_design
from forecast.model.stockflow import build_model, draw_prior, simulate

#: Truths are prior draws; each seed simulates a history on the shipped measurement design.
SEEDS = (11, 12, 13)
#: Scalars checked (process parameters the scenario engine carries forward).
PARAMETERS = (
    "retirement", "price_decline", "price_log_ref", "us_accel_share_drift", "cn_demand_growth",
    "domestic_growth", "licensed_share0", "allowed_perf0", "domestic_yield_trend",
)  # fmt: skip
#: Latent stocks checked, in these years.
STOCKS = ("us_h100e", "cn_licensed_h100e", "cn_leakage_h100e", "cn_domestic_h100e")
YEARS = (2020, 2023, 2025)


def _inside(draws: np.ndarray, truth: float) -> bool:
    low, high = np.quantile(draws, [0.05, 0.95])
    return bool(low <= truth <= high)


@pytest.mark.slow
def test_truth_inside_90_percent_intervals_at_nominal_rate():
    config = model_config()
    design = build_design(load_dataset(), config)
    index = [list(design.years).index(y) for y in YEARS]
    hits = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        params = draw_prior(design, config, rng)
        simulated, truth = simulate(params, design, config, rng)
        idata = sample_model(
            build_model(simulated, config), FitSettings(draws=300, tune=300, chains=2, seed=seed)
        )
        post = idata.posterior.stack(sample=("chain", "draw"))
        hits += [_inside(post[name].values, params[name]) for name in PARAMETERS]
        hits += [_inside(post[stock].values[i], truth[stock][i]) for stock in STOCKS for i in index]
    coverage = np.mean(hits)
    assert coverage >= 0.8, f"coverage {coverage:.2f} of {len(hits)} checks"
