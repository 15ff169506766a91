"""Cross-check: the model's local-linear-trend piece agrees with statsmodels' MLE."""

from __future__ import annotations

import warnings

import numpy as np
import pymc as pm
import pytest
from statsmodels.tsa.statespace.structural import UnobservedComponents

from forecast.data import load_dataset
from forecast.model.config import model_config
from forecast.model.observations import POINT, build_design
from forecast.model.stockflow import CAPEX_TREND, local_linear_trend

#: Observation sd (log scale) fixed in both fits, so they differ only in how they treat the
#: level and slope variances (posterior average vs maximum likelihood) and the priors.
OBS_SD = 0.05
#: Tolerances: smoothed log level within 0.05 (5 %), last-year slope within 0.08 per year.
LEVEL_TOL, SLOPE_TOL = 0.05, 0.08


@pytest.mark.slow
def test_local_linear_trend_matches_unobserved_components():
    obs = build_design(load_dataset(), model_config()).obs
    y = obs.value[(obs.link == "us_capex") & (obs.kind == POINT)]  # log Big-5 capex 2015-2024
    model = UnobservedComponents(y, "local linear trend")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mle = model.fit_constrained({"sigma2.irregular": OBS_SD**2}, disp=False)
    level_mle, slope_mle = mle.smoothed_state[0], mle.smoothed_state[1]

    with pm.Model(coords={"step": np.arange(1, len(y))}):
        level, slope = local_linear_trend(CAPEX_TREND, model_config())
        pm.Deterministic("level", level)
        pm.Deterministic("slope", slope)
        pm.Normal("y", level, OBS_SD, observed=y)
        idata = pm.sample(
            draws=500, tune=500, chains=2, random_seed=3, nuts_sampler="numpyro",
            target_accept=0.95, progressbar=False, compute_convergence_checks=False,
        )  # fmt: skip
    level_post = idata.posterior["level"].mean(("chain", "draw")).values
    slope_post = idata.posterior["slope"].mean(("chain", "draw")).values
    assert np.abs(level_post - level_mle).max() < LEVEL_TOL
    assert abs(slope_post[-1] - slope_mle[-1]) < SLOPE_TOL
