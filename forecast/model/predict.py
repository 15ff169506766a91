"""The Bayesian model as a per-series forecaster (``bayes`` in the backtest registry).

The fitted posterior is carried forward by the model's own generative process: random walks
continue with each draw's drift and spread, export controls in force at the data's end stay in
force, and each draw's quantities are mapped to the series through its measurement link, with
the link's observation noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from forecast.baselines import Predictive, TooShortError, check_horizon, yearly_history
from forecast.data import Dataset
from forecast.model.fitting import DEFAULT_SAMPLER, Fit, fit
from forecast.model.observations import forecast_observations
from forecast.model.stockflow import _NP, INNOVATIONS, TREND_VARIABLES, numpy_quantities, predicted

_FITS: dict[tuple, Fit] = {}


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
class BayesForecaster:
    """Forecast one series with the Bayesian stock-flow model fitted to the whole dataset.

    Fits are cached on disk (see :func:`forecast.model.fit`) and in memory per dataset, so a
    backtest fits once per origin. Series the model does not measure raise ``ModelError``.

    Parameters
    ----------
    seed : int
        Seeds the fit and the predictive draws.
    n_draws : int
        Predictive draws per series.
    fit_options : tuple of (str, object)
        Extra keyword arguments of :func:`forecast.model.fit` (e.g. ``(("draws", 500),)``).
    """

    seed: int = 0
    n_draws: int = 1000
    fit_options: tuple = ()
    name: ClassVar[str] = "bayes"
    min_length: ClassVar[int] = 3

    def _fit(self, dataset: Dataset) -> Fit:
        options = {"sampler": DEFAULT_SAMPLER, **dict(self.fit_options)}
        key = (dataset.fingerprint, self.seed, tuple(sorted(options.items())))
        if key not in _FITS:
            _FITS[key] = fit(dataset, seed=self.seed, **options)
        return _FITS[key]

    def __call__(self, dataset: Dataset, series_id: str, horizon: int) -> Predictive:
        """Predictive draws of ``series_id`` for the ``horizon`` years after its last value."""
        horizon = check_horizon(horizon)
        history = yearly_history(dataset, series_id)
        if len(history) < self.min_length:
            raise TooShortError(series_id, self.name, len(history), self.min_length)
        result = self._fit(dataset)
        labels = int(history.index[-1]) + np.arange(1, horizon + 1)
        ahead = max(int(labels[-1]) - int(result.design.years[-1]), 0)
        years = np.arange(result.design.years[0], result.design.years[-1] + ahead + 1)
        obs = forecast_observations(dataset, result.config, series_id, labels, years)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, horizon]))
        means = predictive_means(result, obs, ahead, self.n_draws, rng)
        draws = means + obs.sd * rng.standard_normal(means.shape)
        draws = np.where(obs.log, np.exp(draws), np.clip(draws, 1e-6, 1 - 1e-6))
        return Predictive(series_id, self.name, labels, draws)
