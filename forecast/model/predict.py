"""The Bayesian model as a per-series forecaster (``bayes``: it registers itself in
:mod:`forecast.registry` when this module is imported; the registry imports it on first use).

The fitted posterior is carried forward by the model's own generative process: random walks
continue with each draw's drift and spread, export controls in force at the data's end stay in
force, and each draw's quantities are mapped to the series through its measurement link, with
the link's observation noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from forecast import bounds
from forecast.baselines import (
    BaseForecaster,
    History,
    Predictive,
    TooShortError,
    check_history,
    check_horizon,
)
from forecast.core import HISTORY, World, extend, project_world
from forecast.data import Dataset
from forecast.evaluation import prepare
from forecast.model.config import ModelConfig
from forecast.model.fitting import DEFAULT_SAMPLER, Fit, ProjectionInputs, fit
from forecast.model.observations import Design, forecast_observations
from forecast.model.stockflow import (
    _NP,
    INNOVATIONS,
    TREND_VARIABLES,
    domestic_push,
    draw_prior,
    draw_world,
    numpy_quantities,
    predicted,
)
from forecast.registry import register

if TYPE_CHECKING:
    from typing import Self

_FITS: dict[tuple, Fit] = {}


def posterior_predictive(
    fit: Fit, horizon: int = 2035, draws: int | None = None, seed: int = 0
) -> dict[str, np.ndarray]:
    """The model's own forecast: posterior draws carried forward under the physical limits.

    The same world (:func:`forecast.evaluation.prepare`) and recursion
    (:func:`forecast.core.roll_forward`) as the scenario engine's status quo, so the two are
    equal draw by draw for the same seed.

    Returns
    -------
    dict of str to numpy.ndarray
        Flows, stocks, effective capex, power in use, HBM stockpile and binding codes
        (:data:`forecast.core.FLOWS`, :data:`forecast.core.STATE`), each (draw, year), plus
        ``years``.
    """
    world = prepare(fit, horizon, seed, draws).world
    return {**project_world(world), "years": world.years}


def prior_predictive(
    design: Design, config: ModelConfig, n_draws: int = 500, horizon: int = 2035, seed: int = 0
) -> dict[str, np.ndarray]:
    """Prior draws of the whole model, history and projection under the limits.

    Each draw takes every parameter from its prior (:func:`draw_prior`, :func:`draw_world`),
    computes the history with the model's own quantities and carries it forward with
    :func:`forecast.core.extend` (:func:`prior_world`).

    Returns
    -------
    dict of str to numpy.ndarray
        As :func:`posterior_predictive`.
    """
    world = prior_world(design, config, n_draws, horizon, seed)
    return {**project_world(world), "years": world.years}


def prior_world(
    design: Design, config: ModelConfig, n_draws: int = 500, horizon: int = 2035, seed: int = 0
) -> World:
    """The model's world (:class:`forecast.core.World`) with every parameter from its prior."""
    params_seed, world_seed, shock_seed = np.random.SeedSequence(seed).spawn(3)
    rng = np.random.default_rng(params_seed)
    draws = [draw_prior(design, config, rng) for _ in range(n_draws)]
    paths = [numpy_quantities(p, design, config) for p in draws]
    hist = {name: np.array([q[name] for q in paths]) for name in HISTORY}
    scalar = lambda name: np.array([p[name] for p in draws])  # noqa: E731
    push_log, push_growth = domestic_push(np.array([p["effects"] for p in draws]), design)
    hist["domestic_push_log"] = push_log
    dynamics = {
        **{name: scalar(name) for name in (
            "retirement", "us_capex_slope_sd", "us_capex_level_sd", "price_decline",
            "cn_demand_growth", "cn_demand_sd", "domestic_growth_sd")},
        "us_capex_slope": np.array([q["us_capex_slope"][-1] for q in paths]),
        "domestic_price_factor": np.exp(scalar("domestic_price_ratio")),
        "domestic_growth": scalar("domestic_growth") + push_growth,
        "domestic_push_growth": push_growth,
        **draw_world(config, design.anchors, n_draws, np.random.default_rng(world_seed)),
    }  # fmt: skip
    inputs = ProjectionInputs(
        design.years, design.n_full, hist, dynamics, design.anchors, design.wafer_plan
    )
    return extend(inputs, horizon, np.random.default_rng(shock_seed))


def _posterior_params(result: Fit, rows: np.ndarray) -> list[dict]:
    """The free variables of the chosen posterior draws, one dict per draw."""
    values = {name: result.posterior_draws(name)[rows] for name in result.free_variables}
    for name in ("effects", "log_factors"):
        values.setdefault(name, np.zeros((len(rows), 0)))
    return [{name: v[i] for name, v in values.items()} for i in range(len(rows))]


def predictive_means(
    result: Fit, obs, years_ahead: int, n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Model means of ``obs`` (noise scale) per posterior draw, years beyond the fit included.

    Returns
    -------
    numpy.ndarray
        Shape (draw, observation).
    """
    design = replace(result.design.extended(years_ahead), obs=obs)
    total = result.posterior_draws("retirement").shape[0]
    rows = rng.choice(total, size=n_draws, replace=n_draws > total)
    means = []
    for params in _posterior_params(result, rows):
        for name in (*INNOVATIONS, *TREND_VARIABLES):
            params[name] = np.concatenate([params[name], rng.standard_normal(years_ahead)])
        q = numpy_quantities(params, design, result.config)
        means.append(predicted(_NP, q, params, design))
    return np.array(means)


@dataclass(frozen=True)
class _BayesFit:
    """What :class:`BayesForecaster` learns in ``fit``."""

    history: History
    result: Fit


@dataclass(frozen=True)
class BayesForecaster(BaseForecaster):
    """Forecast one series with the Bayesian stock-flow model fitted to the whole dataset.

    ``fit`` fits the model to the history's dataset (cached on disk, see
    :func:`forecast.model.fit`, and in memory per dataset, so a backtest fits once per
    origin). Series the model does not measure raise :class:`forecast.FitError` when
    predicting.

    Parameters
    ----------
    seed : int
        Seeds the fit and the predictive draws.
    n_draws : int
        Predictive draws per series.
    fit_options : tuple of (str, object)
        Extra keyword arguments of :func:`forecast.model.fit` (e.g. ``(("draws", 500),)``).
    alias : str, keyword-only
        See :class:`forecast.baselines.BaseForecaster`.
    """

    seed: int = 0
    n_draws: int = 1000
    fit_options: tuple = ()
    name: ClassVar[str] = "bayes"
    min_length: ClassVar[int] = 3

    def __post_init__(self) -> None:
        bounds.SEED.check(self.seed, "seed")
        bounds.DRAWS.check(self.n_draws, "n_draws")
        super().__post_init__()

    def _fit(self, dataset: Dataset) -> Fit:
        options = {"sampler": DEFAULT_SAMPLER, **dict(self.fit_options)}
        key = (dataset.fingerprint, self.seed, tuple(sorted(options.items())))
        if key not in _FITS:
            _FITS[key] = fit(dataset, seed=self.seed, **options)
        return _FITS[key]

    def fit(self, history: History) -> Self:
        """Fit the model to the history's dataset (cached).

        Raises
        ------
        TooShortError
            Fewer than :attr:`min_length` values.
        """
        history = check_history(history)
        if len(history) < self.min_length:
            raise TooShortError(history.series_id, self.alias, len(history), self.min_length)
        self._remember(_BayesFit(history, self._fit(history.dataset)))
        return self

    def predictive(self, horizon: int) -> Predictive:
        """Predictive draws of the series for the ``horizon`` years after its last value."""
        horizon = check_horizon(horizon)
        state = self._fitted()
        assert isinstance(state, _BayesFit)
        dataset, series_id, result = state.history.dataset, state.history.series_id, state.result
        labels = int(state.history.values.index[-1]) + np.arange(1, horizon + 1)
        ahead = max(int(labels[-1]) - int(result.design.years[-1]), 0)
        years = np.arange(result.design.years[0], result.design.years[-1] + ahead + 1)
        obs = forecast_observations(dataset, result.config, series_id, labels, years)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, horizon]))
        means = predictive_means(result, obs, ahead, self.n_draws, rng)
        draws = means + obs.sd * rng.standard_normal(means.shape)
        draws = np.where(obs.log, np.exp(draws), np.clip(draws, 1e-6, 1 - 1e-6))
        return Predictive(series_id, self.alias, labels, draws)


register("bayes", BayesForecaster)
