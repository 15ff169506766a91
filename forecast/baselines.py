"""Per-series time-series baselines (statsmodels) behind one small forecaster interface.

Every forecaster is a callable ``forecaster(dataset, series_id, horizon) -> Predictive``: it
sees only ``dataset`` (so a backtest hands it a dataset cut off at the forecast origin) and
returns predictive draws and quantiles on the natural scale for the ``horizon`` years after the
series' last observed value. The Bayesian model, which fits the whole dataset jointly, plugs in
the same way.

The baselines here model annual series only (``frequency`` ``annual`` in ``series.csv``), one
series at a time, on a transformed scale chosen by the series' unit: logit for shares, log for
every other (positive) quantity. Their forecasts are Gaussian on that scale; quantiles are the
back-transformed Gaussian quantiles, so intervals of positive series stay positive and shares
stay inside (0, 1). Observations with an empty ``value`` (interval or one-sided bounds) are
skipped by these baselines.

What an interval means:

- ``naive``: the random walk with drift's own prediction interval, drift uncertainty and a
  small-sample Student-t correction included; exact if the series is such a walk.
- ``ets``, ``sarimax``, ``ucm``: *calibrated* (:func:`calibration`). statsmodels' own intervals
  treat the fitted parameters as exact and are far too narrow on 6-12 yearly values (on the
  shipped backtest ETS's 90 % intervals covered 49 % of outcomes). The calibrated forecast keeps
  the model's centre; its spread is the larger of the model's and the naive baseline's standard
  deviation, times a split-conformal factor from the errors the same model made, on the same
  data, from earlier origins (so the interval at an origin uses only data up to it). Built with
  ``calibrate=False`` they give statsmodels' own intervals.

Model names (``MODELS``) are used everywhere: ``naive``, ``ets``, ``sarimax``, ``ucm`` and
``auto`` (picks per series by backtest score, CRPS penalised for miscoverage).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import special, stats
from threadpoolctl import threadpool_limits

from forecast import bounds
from forecast.data import Dataset
from forecast.errors import ModelError
from forecast.quantiles import QUANTILE_COLUMNS, QUANTILES

if TYPE_CHECKING:
    from statsmodels.tsa.statespace.mlemodel import MLEModel

#: Columns of :func:`forecast_series`'s tidy frame.
FORECAST_COLUMNS: tuple[str, ...] = ("series_id", "period", "model", "mean", *QUANTILE_COLUMNS)
#: Nominal coverage of the central interval that :func:`calibration` calibrates.
CALIBRATION_LEVEL = 0.9
#: Earlier origins whose errors calibrate an interval: at most this many years before a
#: series' last value.
CALIBRATION_WINDOW = 10
#: Event kinds that become SARIMAX intervention regressors.
INTERVENTION_KINDS: tuple[str, ...] = ("export_control", "licensing", "relaxation")

_HERMITE = np.polynomial.hermite_e.hermegauss(40)  # nodes and weights for E[f(Z)], Z ~ N(0, 1)


@dataclass(frozen=True)
class Transform:
    """A monotone map to the scale on which a baseline's forecast is Gaussian.

    Attributes
    ----------
    name : str
        ``"log"`` or ``"logit"``.
    forward, inverse : callable
        Natural scale to model scale, and back.
    valid : callable
        Elementwise check that values lie in the transform's domain.
    domain : str
        The domain in words, for error messages.
    """

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray]
    valid: Callable[[np.ndarray], np.ndarray]
    domain: str

    def mean(self, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Natural-scale mean of ``inverse(N(loc, scale**2))``, by Gauss-Hermite quadrature."""
        nodes, weights = _HERMITE
        values = self.inverse(np.asarray(loc)[..., None] + np.asarray(scale)[..., None] * nodes)
        return values @ weights / np.sqrt(2 * np.pi)


LOG = Transform("log", np.log, np.exp, lambda v: v > 0, "positive values")
LOGIT = Transform(
    "logit", special.logit, special.expit, lambda v: (v > 0) & (v < 1), "shares strictly in (0, 1)"
)


def transform_for(unit: str) -> Transform:
    """The transform for a series' unit: logit for ``share``, log for everything else."""
    return LOGIT if unit == "share" else LOG


@dataclass(frozen=True)
class Predictive:
    """Predictive distribution of one series for consecutive future years, natural scale.

    Parameters
    ----------
    series_id, model : str
        The series, and the model that produced the numbers.
    periods : numpy.ndarray
        Forecast years, shape ``(H,)``.
    draws : numpy.ndarray
        Draws, shape ``(n_draws, H)``. They are marginal per year, not joint paths.
    quantiles : numpy.ndarray, optional
        Shape ``(H, len(QUANTILES))``; exact values where the model knows them, else taken
        from the draws.
    mean : numpy.ndarray, optional
        Shape ``(H,)``; from the draws when not given.
    note : str
        Anything the caller should know (e.g. which model ``auto`` picked and why).
    """

    series_id: str
    model: str
    periods: np.ndarray
    draws: np.ndarray
    quantiles: np.ndarray | None = None
    mean: np.ndarray | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.draws.ndim != 2 or self.draws.shape[1] != len(self.periods):
            raise ValueError(f"draws must have shape (n_draws, {len(self.periods)})")
        if self.quantiles is None:
            object.__setattr__(self, "quantiles", np.quantile(self.draws, QUANTILES, axis=0).T)
        if self.mean is None:
            object.__setattr__(self, "mean", self.draws.mean(axis=0))

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame with :data:`FORECAST_COLUMNS`; ``attrs["note"]`` holds the note."""
        frame = pd.DataFrame(
            {"series_id": self.series_id, "period": self.periods, "model": self.model}
        )
        frame["mean"] = self.mean
        frame[list(QUANTILE_COLUMNS)] = self.quantiles
        frame.attrs["note"] = self.note
        return frame


@runtime_checkable
class Forecaster(Protocol):
    """The shared interface: ``forecaster(dataset, series_id, horizon) -> Predictive``.

    The forecaster may read only ``dataset`` and returns draws (and, where it knows them
    exactly, quantiles and mean) for the ``horizon`` years after the series' last observed
    value in ``dataset``. ``name`` is the registry name; ``min_length`` the fewest observed
    values it needs.
    """

    name: str
    min_length: int

    def __call__(self, dataset: Dataset, series_id: str, horizon: int) -> Predictive: ...


class TooShortError(ModelError):
    """A series has fewer observed values than a model needs."""

    def __init__(self, series_id: str, model: str, n: int, min_length: int):
        self.series_id, self.model, self.n, self.min_length = series_id, model, n, min_length
        hint = (
            " (fallback=True, CLI --fallback, uses the naive baseline)" if model != "naive" else ""
        )
        super().__init__(
            f"series {series_id!r} has {n} yearly value{'s' if n != 1 else ''}; model "
            f"{model!r} needs at least {min_length}{hint}"
        )


def check_horizon(horizon: object) -> int:
    """Return ``horizon`` if it is a whole number of years within
    :data:`forecast.bounds.FORECAST_HORIZON`, else raise :class:`forecast.InputError`."""
    return bounds.FORECAST_HORIZON.check(horizon)


def yearly_history(dataset: Dataset, series_id: str) -> pd.Series:
    """Observed values of an annual series, indexed by year (empty ``value`` rows skipped).

    Raises
    ------
    DataError
        If the series is unknown.
    ModelError
        If the series is not annual.
    """
    rows = dataset.history(series_id).dropna(subset=["value"])  # validates the id
    frequency = _series_attribute(dataset, series_id, "frequency")
    if frequency != "annual":
        raise ModelError(
            f"series {series_id!r} is {frequency}; the baselines model annual series only"
        )
    index = pd.Index(rows["year"].to_numpy(dtype=int), name="year")
    return pd.Series(rows["value"].to_numpy(dtype=float), index=index, name=series_id)


def _series_attribute(dataset: Dataset, series_id: str, column: str) -> str:
    """One ``series.csv`` cell of a known series (cheaper than ``Dataset.series_info``)."""
    return dataset.series.loc[dataset.series["series_id"] == series_id, column].iloc[0]


def gaussian_predictive(
    series_id: str,
    model: str,
    periods: np.ndarray,
    loc: np.ndarray,
    scale: np.ndarray,
    transform: Transform,
    *,
    n_draws: int,
    seed: int,
) -> Predictive:
    """Predictive of ``transform.inverse(N(loc, scale**2))`` per year: exact quantiles and mean.

    Draws come from ``numpy.random.default_rng(seed)``.
    """
    z = stats.norm.ppf(QUANTILES)
    quantiles = transform.inverse(loc[:, None] + scale[:, None] * z[None, :])
    noise = np.random.default_rng(seed).standard_normal((n_draws, len(periods)))
    draws = transform.inverse(loc + scale * noise)
    return Predictive(series_id, model, periods, draws, quantiles, transform.mean(loc, scale))


@functools.lru_cache(maxsize=4096)
def _cached_fit(
    forecaster: SeriesForecaster,
    years: tuple[int, ...],
    values: tuple[float, ...],
    horizon: int,
    regressors: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Fit and forecast once per distinct input (backtests and ``auto`` refit the same data)."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, EstimationWarning, ValueWarning

    z = pd.Series(values, index=pd.Index(years, name="year"))
    # One BLAS thread: these matrices are tiny, and spinning threads slow a busy machine badly.
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ValueWarning)
        warnings.simplefilter("ignore", EstimationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        loc, scale = forecaster.fit_forecast(z, horizon, regressors)
    loc, scale = np.asarray(loc, dtype=float), np.asarray(scale, dtype=float)
    loc.setflags(write=False)
    scale.setflags(write=False)
    return loc, scale


#: Calibration scores by (fit key, dataset fingerprint, horizon); see :func:`calibration_scores`.
_SCORE_CACHE: dict[tuple, np.ndarray] = {}


def clear_fit_cache() -> None:
    """Forget cached fits and calibration scores (for timing fits in benchmarks)."""
    _cached_fit.cache_clear()
    _SCORE_CACHE.clear()


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ``ceil((n + 1) * level)``-th smallest of ``n`` scores.

    If the scores and a new one are exchangeable, the new one is at most this value with
    probability at least ``level`` (Angelopoulos & Bates, *A gentle introduction to conformal
    prediction*, 2023, section 1).

    Parameters
    ----------
    scores : numpy.ndarray
        Calibration scores, any order.
    level : float
        Nominal coverage in (0, 1).

    Returns
    -------
    float
        The quantile; ``inf`` when ``ceil((n + 1) * level) > n`` (too few scores for a finite
        bound, e.g. fewer than 9 at level 0.9).
    """
    values = np.sort(np.asarray(scores, dtype=float))
    rank = int(np.ceil((len(values) + 1) * level - 1e-9))  # 1e-9: 0.9 * 70 is 63.000...01
    return float(values[rank - 1]) if rank <= len(values) else np.inf


@dataclass(frozen=True)
class Calibration:
    """The split-conformal widening of one forecast's spread (see :func:`calibration`).

    Attributes
    ----------
    factor : float
        Multiplier of the spread, at least 1.
    n : int
        Earlier-origin errors the factor rests on.
    quantile : float
        Their conformal quantile at :data:`CALIBRATION_LEVEL` (``inf`` when too few).
    """

    factor: float
    n: int
    quantile: float

    def describe(self) -> str:
        """The calibration in words, for a prediction's note."""
        level = f"{100 * CALIBRATION_LEVEL:.0f} %"
        if np.isinf(self.quantile):
            return (
                f"interval not conformally calibrated: {self.n} earlier-origin errors, too few "
                f"for a {level} conformal quantile; spread is the larger of the model's and "
                "naive's"
            )
        return (
            f"interval calibrated: spread (the larger of the model's and naive's) x "
            f"{self.factor:.2f}, from the {level} split-conformal quantile of {self.n} "
            "earlier-origin errors"
        )


def calibration_scores(forecaster: SeriesForecaster, dataset: Dataset, horizon: int) -> np.ndarray:
    """Standardised absolute errors of ``forecaster`` from earlier origins, on ``dataset`` alone.

    For every annual series in ``dataset`` that the model can fit, and every origin ``o`` from
    its ``min_length``-th value up to the one before its last (at most
    :data:`CALIBRATION_WINDOW` years before the last), the model is fitted on the values up to
    ``o`` and forecasts ``horizon`` years; each observed value ``y`` in ``o+1 .. o+horizon``
    gives the score ``|t(y) - loc| / spread``. ``t`` is the series' transform, ``loc`` the
    forecast centre and ``spread`` the larger of the model's and the naive baseline's forecast
    standard deviation for that year, all on the transformed scale (where errors of different
    series are comparable). Scores are pooled over series, origins and horizons.

    Only ``dataset`` is read, so in a backtest (a dataset cut off at the origin) no later
    value enters. Cached per dataset fingerprint.

    Returns
    -------
    numpy.ndarray
        The scores, one per earlier forecast of an observed value.
    """
    key = (_fit_key(forecaster), dataset.fingerprint, horizon)
    if dataset.fingerprint and key in _SCORE_CACHE:
        return _SCORE_CACHE[key]
    scores: list[np.ndarray] = []
    counts = dataset.observations.dropna(subset=["value"])["series_id"].value_counts()
    annual = dataset.series.loc[dataset.series["frequency"] == "annual", ["series_id", "unit"]]
    for series_id, unit in annual.itertuples(index=False):
        if counts.get(series_id, 0) <= forecaster.min_length:
            continue  # cheap pre-check: too few values for an earlier origin
        history = yearly_history(dataset, series_id)
        if len(history) <= forecaster.min_length:
            continue
        try:
            z = forecaster._model_scale(series_id, history, transform_for(unit))
        except ModelError:
            continue
        observed = z.dropna()
        last = int(observed.index[-1])
        for origin in observed.index[forecaster.min_length - 1 : -1]:
            if origin < last - CALIBRATION_WINDOW:
                continue
            train = z.loc[:origin]
            try:
                loc, spread = forecaster.forecast_scale(dataset, series_id, train, horizon)
            except ModelError:
                continue
            later = observed.loc[origin + 1 : origin + horizon]
            step = later.index.to_numpy(dtype=int) - int(origin) - 1
            scores.append(np.abs(later.to_numpy() - loc[step]) / spread[step])
    result = np.concatenate(scores) if scores else np.empty(0)
    if dataset.fingerprint:
        if len(_SCORE_CACHE) > 256:
            _SCORE_CACHE.clear()
        _SCORE_CACHE[key] = result
    return result


def calibration(forecaster: SeriesForecaster, dataset: Dataset, horizon: int) -> Calibration:
    """Split-conformal widening factor of ``forecaster``'s spread, from ``dataset`` alone.

    The factor is ``max(1, q / z)``: ``q`` is the conformal quantile
    (:func:`conformal_quantile`) at :data:`CALIBRATION_LEVEL` of
    :func:`calibration_scores`, ``z`` the standard normal quantile of a central interval at
    that level (1.645 for 90 %). So the calibrated interval ``loc +- z * factor * spread``
    would have held at least that share of the model's earlier-origin errors, and is never
    narrower than the larger of the model's and the naive baseline's own interval. With too
    few errors for a finite quantile (fewer than 9 at 90 %) the factor is 1.
    """
    scores = calibration_scores(forecaster, dataset, horizon)
    quantile = conformal_quantile(scores, CALIBRATION_LEVEL)
    z = stats.norm.ppf(0.5 + CALIBRATION_LEVEL / 2)
    factor = 1.0 if np.isinf(quantile) else max(1.0, quantile / z)
    return Calibration(factor, len(scores), quantile)


def _fit_key(forecaster: SeriesForecaster) -> SeriesForecaster:
    """The forecaster with the fields that do not change a fit reset (one cache entry per fit)."""
    return replace(forecaster, seed=0, n_draws=0, calibrate=False)


@dataclass(frozen=True)
class SeriesForecaster:
    """Base of the per-series baselines: a Gaussian forecast on the transformed scale.

    Subclasses set ``name`` and ``min_length`` and implement :meth:`fit_forecast`; models that
    take regressors from the dataset override :meth:`regressors`.

    Parameters
    ----------
    seed : int
        Seed of the predictive draws.
    n_draws : int
        Number of predictive draws.
    calibrate : bool
        Widen the model's spread by :func:`calibration` (the statsmodels models do by default;
        see the module docstring for what the interval then means).
    """

    seed: int = 0
    n_draws: int = 2000
    calibrate: bool = False
    name: ClassVar[str] = ""
    min_length: ClassVar[int] = 3
    allows_gaps: ClassVar[bool] = True

    def __call__(self, dataset: Dataset, series_id: str, horizon: int) -> Predictive:
        """Fit on the series' history in ``dataset`` and forecast ``horizon`` years ahead.

        Raises
        ------
        DataError
            Unknown series.
        ModelError
            Bad horizon, series not annual, too short (:class:`TooShortError`), values outside
            the transform's domain, or a fit that fails.
        """
        horizon = check_horizon(horizon)
        history = yearly_history(dataset, series_id)
        if len(history) < self.min_length:
            raise TooShortError(series_id, self.name, len(history), self.min_length)
        transform = transform_for(_series_attribute(dataset, series_id, "unit"))
        z = self._model_scale(series_id, history, transform)
        note = ""
        if self.calibrate:
            loc, scale = self.forecast_scale(dataset, series_id, z, horizon)
            widening = calibration(self, dataset, horizon)
            scale, note = widening.factor * scale, widening.describe()
        else:
            loc, scale = self.fit(dataset, series_id, z, horizon)
        periods = z.index[-1] + np.arange(1, horizon + 1)
        prediction = gaussian_predictive(
            series_id, self.name, periods, loc, scale, transform,
            n_draws=self.n_draws, seed=self.seed,
        )  # fmt: skip
        return replace(prediction, note=note)

    def fit(
        self, dataset: Dataset, series_id: str, z: pd.Series, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The model's own Gaussian forecast (mean, sd) on the transformed scale, cached.

        Parameters
        ----------
        dataset : Dataset
            Source of the regressors.
        series_id : str
            For error messages.
        z : pandas.Series
            Transformed values (see :meth:`fit_forecast`).
        horizon : int

        Raises
        ------
        ModelError
            If the fit fails or gives a non-finite forecast.
        """
        try:
            loc, scale = _cached_fit(
                _fit_key(self), tuple(z.index), tuple(z), horizon, self.regressors(dataset, z)
            )
        except (ValueError, np.linalg.LinAlgError) as err:
            raise ModelError(f"model {self.name!r} failed on series {series_id!r}: {err}") from err
        if not (np.all(np.isfinite(loc)) and np.all(np.isfinite(scale))):
            raise ModelError(f"model {self.name!r} gave a non-finite forecast for {series_id!r}")
        return loc, scale

    def forecast_scale(
        self, dataset: Dataset, series_id: str, z: pd.Series, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The model's mean and the spread that :func:`calibration` widens: the larger of the
        model's and the naive baseline's forecast sd, per year (arguments as :meth:`fit`)."""
        loc, scale = self.fit(dataset, series_id, z, horizon)
        naive = NaiveForecaster().fit(dataset, series_id, z, horizon)[1]
        return loc, np.maximum(scale, naive)

    def _model_scale(self, series_id: str, history: pd.Series, transform: Transform) -> pd.Series:
        """Transformed values over the full span of years (missing years are NaN)."""
        bad = history[~transform.valid(history.to_numpy())]
        if len(bad):
            raise ModelError(
                f"series {series_id!r} has {bad.iloc[0]:g} in {bad.index[0]}; its {transform.name} "
                f"transform needs {transform.domain}"
            )
        years = np.arange(history.index[0], history.index[-1] + 1)
        z = transform.forward(history).reindex(years)
        if not self.allows_gaps and z.isna().any():
            raise ModelError(
                f"model {self.name!r} needs consecutive years; series {series_id!r} has no "
                f"value for {', '.join(map(str, z.index[z.isna()]))}"
            )
        return z

    def regressors(self, dataset: Dataset, z: pd.Series) -> tuple[int, ...]:
        """Hashable description of the regressors taken from ``dataset`` (none by default)."""
        return ()

    def fit_forecast(
        self, z: pd.Series, horizon: int, regressors: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fit on the model scale and forecast years 1..horizon after the last one.

        Parameters
        ----------
        z : pandas.Series
            Transformed values indexed by consecutive years, NaN where missing; the first and
            last are observed.
        horizon : int
        regressors : tuple of int
            What :meth:`regressors` returned.

        Returns
        -------
        (mean, sd) : tuple of numpy.ndarray
            Gaussian forecast mean and standard deviation per year, shape ``(horizon,)``.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class NaiveForecaster(SeriesForecaster):
    """Random walk with drift on the transformed scale (the baseline every model must beat).

    Drift is the average yearly change between the first and last values; the variance of a
    yearly step, ``s**2``, is estimated from the residual steps with one degree of freedom
    used by the drift (a gap of k years counts as k steps). The h-step forecast error has
    variance ``sigma**2 * h * (1 + h / T)``, ``T`` the span in years, which includes the
    drift's own uncertainty (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*,
    3rd ed., section 5.5). With ``s`` for ``sigma`` the standardised error is Student-t with
    ``m - 1`` degrees of freedom (``m`` steps). The forecast is Gaussian with that standard
    deviation widened by ``t(0.95, m - 1) / z(0.95)``, so the 90 % interval is exact under the
    model even for short series (the 50 % interval is then a little wide); a Student-t itself
    would give the natural scale an infinite mean and CRPS through its log-scale tails.
    """

    name: ClassVar[str] = "naive"
    min_length: ClassVar[int] = 3

    def fit_forecast(
        self, z: pd.Series, horizon: int, regressors: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        observed = z.dropna()
        t, y = observed.index.to_numpy(dtype=float), observed.to_numpy()
        span = t[-1] - t[0]
        drift = (y[-1] - y[0]) / span
        gaps = np.diff(t)
        residuals = np.diff(y) - drift * gaps
        sigma2 = np.sum(residuals**2 / gaps) / (len(gaps) - 1)
        h = np.arange(1, horizon + 1)
        widen = stats.t.ppf(0.95, len(gaps) - 1) / stats.norm.ppf(0.95)
        return y[-1] + drift * h, widen * np.sqrt(sigma2 * h * (1 + h / span))


@dataclass(frozen=True)
class StatsmodelsForecaster(SeriesForecaster):
    """Base of the statsmodels baselines: calibrated intervals by default.

    With ``calibrate=True`` (default) the interval is the calibrated one of
    :func:`calibration`; with ``calibrate=False`` it is statsmodels' own prediction interval,
    which treats the maximum-likelihood parameters as exact (too narrow on short series).
    """

    calibrate: bool = True


@dataclass(frozen=True)
class EtsForecaster(StatsmodelsForecaster):
    """Exponential smoothing with additive damped trend, ETS(A,Ad,N) (statsmodels ``ETSModel``).

    Needs consecutive years. Intervals: see :class:`StatsmodelsForecaster`.
    """

    name: ClassVar[str] = "ets"
    min_length: ClassVar[int] = 6
    allows_gaps: ClassVar[bool] = False

    def fit_forecast(
        self, z: pd.Series, horizon: int, regressors: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        endog = pd.Series(z.to_numpy())  # a RangeIndex: ETSModel's prediction needs pandas
        model = ETSModel(endog, error="add", trend="add", damped_trend=True)
        result = model.fit(disp=False)
        prediction = result.get_prediction(start=len(z), end=len(z) + horizon - 1)
        mean, variance = prediction.predicted_mean.to_numpy(), prediction.forecast_variance
        return mean, np.sqrt(variance)


def intervention_matrix(
    years: np.ndarray, starts: tuple[int, ...], shape: Literal["step", "ramp"]
) -> np.ndarray:
    """Regressors, one column per start year: a step (0 before, 1 from the start year on) or
    a ramp (0 before, then 1, 2, ... from the start year on)."""
    elapsed = np.asarray(years, dtype=float)[:, None] - np.asarray(starts, dtype=float)[None, :]
    return (elapsed >= 0).astype(float) if shape == "step" else np.clip(elapsed + 1, 0, None)


@dataclass(frozen=True)
class SarimaxForecaster(StatsmodelsForecaster):
    """ARIMA(1,1,0) with drift and export-control intervention regressors (statsmodels SARIMAX).

    Regressors are steps (or ramps) from the years of ``dataset.events`` of the kinds in
    ``event_kinds``; a step stays on in the forecast years. To stay estimable on short series,
    only event years whose regressor varies within the fit window are used (earliest first),
    at most ``max_events`` of them and no more than the data can carry, and a regressor that
    would make the (differenced) design singular is dropped. Intervals: see
    :class:`StatsmodelsForecaster`.

    Parameters
    ----------
    shape : {"step", "ramp"}
        Form of each intervention.
    max_events : int
        Most intervention regressors in one fit.
    event_kinds : tuple of str
        Event kinds that become regressors.
    """

    shape: Literal["step", "ramp"] = "step"
    max_events: int = 2
    event_kinds: tuple[str, ...] = INTERVENTION_KINDS
    order: ClassVar[tuple[int, int, int]] = (1, 1, 0)  # the regressor checks assume d = 1
    name: ClassVar[str] = "sarimax"
    min_length: ClassVar[int] = 6

    def regressors(self, dataset: Dataset, z: pd.Series) -> tuple[int, ...]:
        events = dataset.events[dataset.events["kind"].isin(self.event_kinds)]
        years = sorted({int(date[:4]) for date in events["date"]})
        first, last = int(z.index[0]), int(z.index[-1])
        candidates = [year for year in years if first < year <= last]
        observed = z.notna().to_numpy()
        rows = observed[1:] & observed[:-1]  # one-year differences that are observed
        room = int(rows.sum()) - (self.order[0] + self.order[2] + 2) - 1  # + drift, variance
        design = np.ones((int(rows.sum()), 1))
        kept: list[int] = []
        for year in candidates:
            if len(kept) >= min(self.max_events, room):
                break
            column = np.diff(intervention_matrix(z.index, (year,), self.shape), axis=0)[rows]
            trial = np.hstack([design, column])
            if np.linalg.matrix_rank(trial) == trial.shape[1]:
                kept.append(year)
                design = trial
        return tuple(kept)

    def fit_forecast(
        self, z: pd.Series, horizon: int, regressors: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        future = z.index[-1] + np.arange(1, horizon + 1)
        exog, exog_future = None, None
        if regressors:
            exog = intervention_matrix(z.index, regressors, self.shape)
            exog_future = intervention_matrix(future, regressors, self.shape)
        model = SARIMAX(z.to_numpy(), exog=exog, order=self.order, trend="t")
        return _state_space_forecast(model, horizon, exog_future)


@dataclass(frozen=True)
class UcmForecaster(StatsmodelsForecaster):
    """Local linear trend unobserved-components model (statsmodels UnobservedComponents).

    Intervals: see :class:`StatsmodelsForecaster`.
    """

    name: ClassVar[str] = "ucm"
    min_length: ClassVar[int] = 6

    def fit_forecast(
        self, z: pd.Series, horizon: int, regressors: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        from statsmodels.tsa.statespace.structural import UnobservedComponents

        model = UnobservedComponents(z.to_numpy(), level="local linear trend")
        return _state_space_forecast(model, horizon, None)


def _state_space_forecast(
    model: MLEModel, horizon: int, exog: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    forecast = model.fit(disp=False).get_forecast(horizon, exog=exog)
    return forecast.predicted_mean, forecast.se_mean


@dataclass(frozen=True)
class AutoForecaster:
    """Pick, per series, the candidate with the lowest CRPS, penalised for 90 % coverage away
    from nominal (:func:`forecast.backtest.penalised_crps`), in a backtest on the data given.

    The backtest uses only ``dataset`` (origins before its last value), so ``auto`` can itself
    be backtested without leakage. Its prediction's ``note`` says which model it picked and why
    (every candidate's score, CRPS and coverage), then the picked model's own note; a series
    too short to compare candidates gets the naive baseline, with the reason.
    """

    seed: int = 0
    candidates: tuple[str, ...] = ("naive", "ets", "sarimax", "ucm")
    name: ClassVar[str] = "auto"
    min_length: ClassVar[int] = NaiveForecaster.min_length

    def __call__(self, dataset: Dataset, series_id: str, horizon: int) -> Predictive:
        from forecast.backtest import select_model

        choice, reason = select_model(
            dataset, series_id, check_horizon(horizon), self.candidates, seed=self.seed
        )
        prediction = get_forecaster(choice, seed=self.seed)(dataset, series_id, horizon)
        return replace(prediction, note="; ".join(filter(None, [reason, prediction.note])))


def _bayes(seed: int = 0) -> Forecaster:
    """The Bayesian stock-flow model (imported on use: PyMC is slow to import)."""
    from forecast.model.predict import BayesForecaster

    return BayesForecaster(seed=seed)


#: Model name -> factory (called with ``seed=``); the Bayesian model registers as ``bayes``.
MODELS: dict[str, Callable[..., Forecaster]] = {
    "naive": NaiveForecaster,
    "ets": EtsForecaster,
    "sarimax": SarimaxForecaster,
    "ucm": UcmForecaster,
    "auto": AutoForecaster,
    "bayes": _bayes,
}


def get_forecaster(name: str, *, seed: int = 0) -> Forecaster:
    """The forecaster registered as ``name``.

    Raises
    ------
    ModelError
        If the name is unknown (the message lists the valid names).
    """
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; valid models: {', '.join(MODELS)}")
    return MODELS[name](seed=seed)


def forecast_series(
    dataset: Dataset,
    series_id: str,
    horizon: int,
    model: str = "auto",
    *,
    fallback: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Forecast one series ``horizon`` years past its last observed value.

    Parameters
    ----------
    dataset : Dataset
        Data to fit on (load it with ``until=`` to forecast from an earlier year).
    series_id : str
        An annual series.
    horizon : int
        Years ahead, >= 1.
    model : str
        A name in :data:`MODELS`.
    fallback : bool
        If the series is too short for ``model``, use the naive baseline instead of raising.
    seed : int
        Seed of the predictive draws.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FORECAST_COLUMNS`, one row per year; ``model`` is the model that
        produced the numbers, and ``attrs["note"]`` says why when it differs from ``model``.

    Raises
    ------
    DataError
        Unknown series.
    ModelError
        Unknown model, horizon or seed outside :mod:`forecast.bounds`, series not annual,
        too short (without ``fallback``).
    """
    bounds.SEED.check(seed)
    forecaster = get_forecaster(model, seed=seed)
    horizon = check_horizon(horizon)
    try:
        prediction = forecaster(dataset, series_id, horizon)
    except TooShortError as err:
        if not fallback:
            raise
        prediction = NaiveForecaster(seed=seed)(dataset, series_id, horizon)
        prediction = replace(
            prediction, note=f"{model} needs {err.min_length} values, the series has {err.n}: "
            "fell back to naive"
        )  # fmt: skip
    return prediction.to_frame()
