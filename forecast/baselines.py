"""Per-series time-series baselines (statsmodels) behind one small forecaster contract.

The contract (:class:`Forecaster`), in the manner of statsforecast's models:

- ``alias``: the forecaster's label in results, unique in a run. By default the model's name
  followed by the settings that differ from their defaults (``sarimax``, ``sarimax(2,1,0)``,
  ``ets(calibrate=False)``); pass ``alias=`` to choose another.
- ``fit(history) -> self``: learn from a :class:`History` (one annual series and the dataset
  it comes from, cut off at the forecast origin in a backtest).
- ``predict(horizon, levels) -> DataFrame``: the tidy forecast (:data:`FORECAST_COLUMNS`; one
  quantile column per level) for the ``horizon`` years after the series' last value;
  ``predictive(horizon)`` gives the same forecast as draws (:class:`Predictive`), which the
  backtest scores.
- ``min_length``: the fewest observed values ``fit`` accepts; fewer raise
  :class:`TooShortError`.

:class:`BaseForecaster` gives ``alias``, ``predict`` and a one-shot
``forecaster(dataset, series_id, horizon) -> Predictive``. Model choice (``auto``), the
fallback to the naive baseline when a series is too short, and the registry of model names
(:data:`forecast.registry.MODELS`) live above this module, in :mod:`forecast.backtest` and
:mod:`forecast.registry`; the Bayesian model registers itself there as ``bayes``.

The baselines here model annual series only (``frequency`` ``annual`` in ``series.csv``), one
series at a time, on a transformed scale chosen by the series' unit: logit for shares, log for
every other (positive) quantity. Their forecasts are Gaussian on that scale; quantiles are the
back-transformed Gaussian quantiles, so intervals of positive series stay positive and shares
stay inside (0, 1). Observations with an empty ``value`` (interval or one-sided bounds) are
skipped by these baselines. ``fit`` estimates the model (statsmodels' maximum likelihood, cached
per input); ``predict`` runs its filter forward.

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
"""

from __future__ import annotations

import contextlib
import functools
import reprlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import special, stats
from threadpoolctl import threadpool_limits

from forecast import bounds
from forecast.data import Dataset
from forecast.errors import FitError, InputError
from forecast.quantiles import QUANTILE_COLUMNS, QUANTILES

if TYPE_CHECKING:
    from typing import Self

    from statsmodels.tsa.statespace.mlemodel import MLEModel

#: Columns of a forecaster's tidy frame (:meth:`Forecaster.predict`, ``forecast_series``).
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


def level_column(level: float) -> str:
    """Column name of a quantile level: 0.05 -> ``q05``, 0.975 -> ``q97.5``."""
    percent = round(100 * level, 6)
    return f"q{int(percent):02d}" if percent == int(percent) else f"q{percent:g}"


@dataclass(frozen=True)
class Predictive:
    """Predictive distribution of one series for consecutive future years, natural scale.

    Parameters
    ----------
    series_id, model : str
        The series, and the alias of the forecaster that produced the numbers.
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
    ppf : callable, optional
        Exact quantiles at any levels: ``ppf(levels)`` has shape ``(H, len(levels))``; without
        it levels other than :data:`QUANTILES` come from the draws.
    """

    series_id: str
    model: str
    periods: np.ndarray
    draws: np.ndarray
    quantiles: np.ndarray | None = None
    mean: np.ndarray | None = None
    note: str = ""
    ppf: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.draws.ndim != 2 or self.draws.shape[1] != len(self.periods):
            raise InputError(f"draws must have shape (n_draws, {len(self.periods)})")
        if self.quantiles is None:
            object.__setattr__(self, "quantiles", np.quantile(self.draws, QUANTILES, axis=0).T)
        if self.mean is None:
            object.__setattr__(self, "mean", self.draws.mean(axis=0))

    def quantiles_at(self, levels: Sequence[float]) -> np.ndarray:
        """Quantiles at ``levels``, shape ``(H, len(levels))``: exact where the model knows
        them (:data:`QUANTILES`, or any level with ``ppf``), else from the draws."""
        levels = tuple(levels)
        if levels == QUANTILES:
            return np.asarray(self.quantiles)
        if self.ppf is not None:
            return np.asarray(self.ppf(np.asarray(levels)))
        return np.quantile(self.draws, levels, axis=0).T

    def to_frame(self, levels: Sequence[float] = QUANTILES) -> pd.DataFrame:
        """Tidy frame: ``series_id, period, model, mean`` and one column per quantile level
        (:data:`FORECAST_COLUMNS` for the default levels); ``attrs["note"]`` holds the note."""
        frame = pd.DataFrame(
            {"series_id": self.series_id, "period": self.periods, "model": self.model}
        )
        frame["mean"] = self.mean
        frame[[level_column(q) for q in levels]] = self.quantiles_at(levels)
        frame.attrs["note"] = self.note
        return frame


@dataclass(frozen=True, eq=False)
class History:
    """What a forecaster may learn from: one annual series and the dataset it comes from.

    Build it with :meth:`of`. In a backtest the dataset is cut off at the origin, so nothing
    later can be read.

    Attributes
    ----------
    dataset : Dataset
        Everything else a model may read (events, other series).
    series_id : str
    values : pandas.Series
        The series' observed yearly values (empty ``value`` rows skipped), indexed by year.
    unit : str
        The series' unit (``share`` or another positive quantity).
    """

    dataset: Dataset
    series_id: str
    values: pd.Series
    unit: str

    @classmethod
    def of(cls, dataset: Dataset, series_id: str) -> History:
        """The history of ``series_id`` in ``dataset``.

        Raises
        ------
        UsageError
            If ``dataset`` is not a :class:`forecast.Dataset`.
        DataError
            If the series is unknown.
        FitError
            If the series is not annual.
        """
        values = yearly_history(dataset, series_id)
        return cls(dataset, series_id, values, _series_attribute(dataset, series_id, "unit"))

    def __len__(self) -> int:
        return len(self.values)


@runtime_checkable
class Forecaster(Protocol):
    """The forecaster contract (see the module docstring); :class:`BaseForecaster` gives
    ``alias``, ``predict`` and ``__call__`` to a class that implements ``fit`` and
    ``predictive``.

    Attributes
    ----------
    alias : str
        Label in results; unique in a run.
    min_length : int
        The fewest observed values ``fit`` accepts.
    """

    alias: str
    min_length: int

    def fit(self, history: History) -> Forecaster:
        """Learn from ``history``; return the forecaster itself."""
        ...

    def predictive(self, horizon: int) -> Predictive:
        """Draws (and exact quantiles where known) for the ``horizon`` years after the last
        value of the history last fitted."""
        ...

    def predict(self, horizon: int, levels: Sequence[float] = QUANTILES) -> pd.DataFrame:
        """The tidy forecast: :meth:`predictive` as a frame with one column per level."""
        ...


@dataclass(frozen=True)
class BaseForecaster:
    """Base of the forecasters: a frozen dataclass whose fields are its configuration.

    A subclass sets ``name`` (the model family, e.g. ``"sarimax"``) and ``min_length``, and
    implements :meth:`fit` (which ends with ``self._remember(state)`` and ``return self``) and
    :meth:`predictive` (which reads ``self._fitted()``).

    Parameters
    ----------
    alias : str, keyword-only
        Label in results, unique in a run. Default: ``name`` followed by the fields that
        differ from their defaults, except ``seed`` and ``n_draws`` (they set how a forecast
        is sampled, not what is forecast): ``sarimax(2,1,0)``, ``ets(calibrate=False)``. It is
        set when the forecaster is made: after ``dataclasses.replace`` pass ``alias=""`` to
        derive it again.
    """

    alias: str = field(default="", compare=False, kw_only=True)
    name: ClassVar[str] = "forecaster"
    min_length: ClassVar[int] = 1
    #: Fields the default alias shows by value alone, e.g. ``sarimax(2,1,0)``.
    alias_positional: ClassVar[tuple[str, ...]] = ()
    #: Fields the default alias leaves out.
    alias_ignores: ClassVar[tuple[str, ...]] = ("seed", "n_draws")

    def __post_init__(self) -> None:
        if not isinstance(self.alias, str):
            raise InputError(f"alias must be text, got {reprlib.repr(self.alias)}")
        if not self.alias:
            object.__setattr__(self, "alias", self.default_alias())

    def default_alias(self) -> str:
        """``name``, then every configured field that differs from its default."""
        positional, keyword = [], []
        for spec in fields(self):
            if spec.name == "alias" or spec.name in self.alias_ignores or not spec.init:
                continue
            value = getattr(self, spec.name)
            if spec.default is not MISSING and _same(value, spec.default):
                continue
            if spec.default_factory is not MISSING and _same(value, spec.default_factory()):
                continue
            if spec.name in self.alias_positional and isinstance(value, tuple):
                positional.append(",".join(_alias_text(v) for v in value))
            else:
                keyword.append(f"{spec.name}={_alias_text(value)}")
        parts = positional + keyword
        return f"{self.name}({', '.join(parts)})" if parts else self.name

    def fit(self, history: History) -> Self:
        """Learn from ``history``; return ``self``."""
        raise NotImplementedError

    def predictive(self, horizon: int) -> Predictive:
        """Draws for the ``horizon`` years after the fitted history's last value."""
        raise NotImplementedError

    def predict(self, horizon: int, levels: Sequence[float] = QUANTILES) -> pd.DataFrame:
        """The tidy forecast of the fitted history: ``series_id, period, model, mean`` and one
        quantile column per level (``q05`` for 0.05); ``attrs["note"]`` holds the note.

        Raises
        ------
        UsageError
            A horizon outside :data:`forecast.bounds.FORECAST_HORIZON`, levels that are not
            increasing probabilities, or no :meth:`fit` yet.
        FitError
            If the model fails on the history.
        """
        levels = bounds.check_levels(levels, "levels")
        names = [level_column(q) for q in levels]
        if len(set(names)) < len(names):
            raise InputError(f"levels must differ in their column names ({names}), got {levels}")
        return self.predictive(horizon).to_frame(levels)

    def __call__(self, dataset: Dataset, series_id: str, horizon: int) -> Predictive:
        """``fit(History.of(dataset, series_id)).predictive(horizon)`` in one call."""
        horizon = check_horizon(horizon)
        return self.fit(History.of(dataset, series_id)).predictive(horizon)

    def _remember(self, state: object) -> None:
        """Keep what :meth:`fit` learnt (the configuration fields stay frozen)."""
        object.__setattr__(self, "_state", state)

    def _fitted(self) -> object:
        """What :meth:`fit` learnt; a :class:`forecast.UsageError` before any fit."""
        state = self.__dict__.get("_state")
        if state is None:
            raise InputError(f"forecaster {self.alias!r}: call fit(history) before predicting")
        return state


def _same(value: object, default: object) -> bool:
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # e.g. an array compared with a tuple
        return False


def _alias_text(value: object) -> str:
    """A setting as the default alias shows it: strings bare, tuples in parentheses."""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple | list):
        return "(" + ",".join(_alias_text(v) for v in value) + ")"
    alias = getattr(value, "alias", None)
    return alias if isinstance(alias, str) else repr(value)


class TooShortError(FitError):
    """A series has fewer observed values than a model needs."""

    def __init__(self, series_id: str, model: str, n: int, min_length: int):
        self.series_id, self.model, self.n, self.min_length = series_id, model, n, min_length
        naive = NaiveForecaster.min_length
        hint = (
            " (fallback=True, CLI --fallback, uses the naive baseline)"
            if n >= naive and min_length > naive
            else ""
        )
        super().__init__(
            f"series {series_id!r} has {n} yearly value{'s' if n != 1 else ''}; model "
            f"{model!r} needs at least {min_length}{hint}"
        )


def check_horizon(horizon: object) -> int:
    """Return ``horizon`` if it is a whole number of years within
    :data:`forecast.bounds.FORECAST_HORIZON`, else raise :class:`forecast.InputError`."""
    return bounds.FORECAST_HORIZON.check(horizon)


def check_history(history: object) -> History:
    """Return ``history`` if it is a :class:`History`, else raise :class:`forecast.InputError`."""
    if not isinstance(history, History):
        raise InputError(
            "history must be a History (forecast.baselines.History.of(dataset, series_id)), "
            f"got {type(history).__name__}"
        )
    return history


def yearly_history(dataset: Dataset, series_id: str) -> pd.Series:
    """Observed values of an annual series, indexed by year (empty ``value`` rows skipped).

    Raises
    ------
    UsageError
        If ``dataset`` is not a :class:`forecast.Dataset`.
    DataError
        If the series is unknown.
    FitError
        If the series is not annual.
    """
    if not isinstance(dataset, Dataset):
        raise InputError(
            f"dataset must be a Dataset (see forecast.load_dataset), got {type(dataset).__name__}"
        )
    rows = dataset.history(series_id).dropna(subset=["value"])  # validates the id
    frequency = _series_attribute(dataset, series_id, "frequency")
    if frequency != "annual":
        raise FitError(
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
    """Predictive of ``transform.inverse(N(loc, scale**2))`` per year: exact quantiles (at any
    level) and mean.

    Draws come from ``numpy.random.default_rng(seed)``.
    """

    def ppf(levels: np.ndarray) -> np.ndarray:
        z = stats.norm.ppf(np.asarray(levels, dtype=float))
        return transform.inverse(loc[:, None] + scale[:, None] * z[None, :])

    noise = np.random.default_rng(seed).standard_normal((n_draws, len(periods)))
    draws = transform.inverse(loc + scale * noise)
    return Predictive(
        series_id, model, periods, draws, ppf(np.asarray(QUANTILES)),
        transform.mean(loc, scale), ppf=ppf,
    )  # fmt: skip


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """statsmodels' warnings off; one BLAS thread (these matrices are tiny, and spinning
    threads slow a busy machine badly)."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, EstimationWarning, ValueWarning

    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        for category in (ConvergenceWarning, ValueWarning, EstimationWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        yield


def _frozen(array: object) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


@functools.lru_cache(maxsize=4096)
def _cached_estimate(
    forecaster: SeriesForecaster,
    years: tuple[int, ...],
    values: tuple[float, ...],
    regressors: tuple[int, ...],
) -> np.ndarray:
    """Estimate once per distinct input (backtests, ``auto`` and calibration refit the same
    data)."""
    z = pd.Series(values, index=pd.Index(years, name="year"))
    with _quiet():
        return _frozen(forecaster.estimate(z, regressors))


@functools.lru_cache(maxsize=4096)
def _cached_forecast(
    forecaster: SeriesForecaster,
    years: tuple[int, ...],
    values: tuple[float, ...],
    regressors: tuple[int, ...],
    horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast once per distinct input and horizon, from the cached estimate."""
    params = _cached_estimate(forecaster, years, values, regressors)
    z = pd.Series(values, index=pd.Index(years, name="year"))
    with _quiet():
        loc, scale = forecaster.forecast(z, regressors, params, horizon)
    return _frozen(loc), _frozen(scale)


#: Calibration scores by (fit key, dataset fingerprint, horizon); see :func:`calibration_scores`.
_SCORE_CACHE: dict[tuple, np.ndarray] = {}


def clear_fit_cache() -> None:
    """Forget cached fits and calibration scores (for timing fits in benchmarks)."""
    _cached_estimate.cache_clear()
    _cached_forecast.cache_clear()
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
        except FitError:
            continue
        observed = z.dropna()
        last = int(observed.index[-1])
        for origin in observed.index[forecaster.min_length - 1 : -1]:
            if origin < last - CALIBRATION_WINDOW:
                continue
            train = z.loc[:origin]
            try:
                loc, spread = forecaster.forecast_scale(dataset, series_id, train, horizon)
            except FitError:
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
    return replace(forecaster, seed=0, n_draws=1, calibrate=False)


@dataclass(frozen=True)
class _SeriesFit:
    """What a :class:`SeriesForecaster` learns in ``fit``."""

    history: History
    transform: Transform
    z: pd.Series
    regressors: tuple[int, ...]


@dataclass(frozen=True)
class SeriesForecaster(BaseForecaster):
    """Base of the per-series baselines: a Gaussian forecast on the transformed scale.

    Subclasses set ``name`` and ``min_length`` and implement :meth:`estimate` and
    :meth:`forecast`; models that take regressors from the dataset override
    :meth:`regressors`.

    Parameters
    ----------
    seed : int
        Seed of the predictive draws.
    n_draws : int
        Number of predictive draws.
    calibrate : bool
        Widen the model's spread by :func:`calibration` (the statsmodels models do by default;
        see the module docstring for what the interval then means).
    alias : str, keyword-only
        See :class:`BaseForecaster`.

    Raises
    ------
    UsageError
        A seed or number of draws outside :mod:`forecast.bounds`, ``calibrate`` not a bool.
    """

    seed: int = 0
    n_draws: int = 2000
    calibrate: bool = False
    name: ClassVar[str] = ""
    min_length: ClassVar[int] = 3
    allows_gaps: ClassVar[bool] = True

    def __post_init__(self) -> None:
        bounds.SEED.check(self.seed, "seed")
        bounds.DRAWS.check(self.n_draws, "n_draws")
        if not isinstance(self.calibrate, bool | np.bool_):
            raise InputError(f"calibrate must be True or False, got {reprlib.repr(self.calibrate)}")
        super().__post_init__()

    def fit(self, history: History) -> Self:
        """Estimate the model on the history's values (on the transformed scale).

        Raises
        ------
        UsageError
            If ``history`` is not a :class:`History`.
        FitError
            Too short (:class:`TooShortError`), values outside the transform's domain, gaps
            the model cannot take, or an estimation that fails.
        """
        history = check_history(history)
        if len(history) < self.min_length:
            raise TooShortError(history.series_id, self.alias, len(history), self.min_length)
        transform = transform_for(history.unit)
        z = self._model_scale(history.series_id, history.values, transform)
        regressors = self.regressors(history.dataset, z)
        self._estimate(history.series_id, z, regressors)
        self._remember(_SeriesFit(history, transform, z, regressors))
        return self

    def predictive(self, horizon: int) -> Predictive:
        """Forecast ``horizon`` years past the fitted history's last value.

        Raises
        ------
        UsageError
            Bad horizon, or no :meth:`fit` yet.
        FitError
            If the forecast fails or is not finite.
        """
        horizon = check_horizon(horizon)
        state = self._fitted()
        assert isinstance(state, _SeriesFit)
        series_id, dataset, z = state.history.series_id, state.history.dataset, state.z
        note = ""
        if self.calibrate:
            loc, scale = self.forecast_scale(dataset, series_id, z, horizon)
            widening = calibration(self, dataset, horizon)
            scale, note = widening.factor * scale, widening.describe()
        else:
            loc, scale = self._forecast(series_id, z, state.regressors, horizon)
        periods = z.index[-1] + np.arange(1, horizon + 1)
        prediction = gaussian_predictive(
            series_id, self.alias, periods, loc, scale, state.transform,
            n_draws=self.n_draws, seed=self.seed,
        )  # fmt: skip
        return replace(prediction, note=note)

    def _estimate(self, series_id: str, z: pd.Series, regressors: tuple[int, ...]) -> np.ndarray:
        """The model's parameters on ``z``, cached; a :class:`forecast.FitError` if it fails."""
        try:
            return _cached_estimate(_fit_key(self), tuple(z.index), tuple(z), regressors)
        except (ValueError, np.linalg.LinAlgError) as err:
            raise FitError(f"model {self.alias!r} failed on series {series_id!r}: {err}") from err

    def _forecast(
        self, series_id: str, z: pd.Series, regressors: tuple[int, ...], horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The model's Gaussian forecast (mean, sd) on the transformed scale, cached."""
        self._estimate(series_id, z, regressors)
        try:
            loc, scale = _cached_forecast(
                _fit_key(self), tuple(z.index), tuple(z), regressors, horizon
            )
        except (ValueError, np.linalg.LinAlgError) as err:
            raise FitError(f"model {self.alias!r} failed on series {series_id!r}: {err}") from err
        if not (np.all(np.isfinite(loc)) and np.all(np.isfinite(scale))):
            raise FitError(f"model {self.alias!r} gave a non-finite forecast for {series_id!r}")
        return loc, scale

    def model_forecast(
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
            Transformed values (see :meth:`estimate`).
        horizon : int

        Raises
        ------
        FitError
            If the fit fails or gives a non-finite forecast.
        """
        return self._forecast(series_id, z, self.regressors(dataset, z), horizon)

    def forecast_scale(
        self, dataset: Dataset, series_id: str, z: pd.Series, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The model's mean and the spread that :func:`calibration` widens: the larger of the
        model's and the naive baseline's forecast sd, per year (arguments as
        :meth:`model_forecast`)."""
        loc, scale = self.model_forecast(dataset, series_id, z, horizon)
        naive = NaiveForecaster().model_forecast(dataset, series_id, z, horizon)[1]
        return loc, np.maximum(scale, naive)

    def _model_scale(self, series_id: str, history: pd.Series, transform: Transform) -> pd.Series:
        """Transformed values over the full span of years (missing years are NaN)."""
        bad = history[~transform.valid(history.to_numpy())]
        if len(bad):
            raise FitError(
                f"series {series_id!r} has {bad.iloc[0]:g} in {bad.index[0]}; its {transform.name} "
                f"transform needs {transform.domain}"
            )
        years = np.arange(history.index[0], history.index[-1] + 1)
        z = transform.forward(history).reindex(years)
        if not self.allows_gaps and z.isna().any():
            raise FitError(
                f"model {self.alias!r} needs consecutive years; series {series_id!r} has no "
                f"value for {', '.join(map(str, z.index[z.isna()]))}"
            )
        return z

    def regressors(self, dataset: Dataset, z: pd.Series) -> tuple[int, ...]:
        """Hashable description of the regressors taken from ``dataset`` (none by default)."""
        return ()

    def estimate(self, z: pd.Series, regressors: tuple[int, ...]) -> np.ndarray:
        """Fit on the model scale: the model's parameters.

        Parameters
        ----------
        z : pandas.Series
            Transformed values indexed by consecutive years, NaN where missing; the first and
            last are observed.
        regressors : tuple of int
            What :meth:`regressors` returned.
        """
        raise NotImplementedError

    def forecast(
        self, z: pd.Series, regressors: tuple[int, ...], params: np.ndarray, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Forecast years 1..horizon after the last one with the parameters of :meth:`estimate`.

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

    def estimate(self, z: pd.Series, regressors: tuple[int, ...]) -> np.ndarray:
        """``(last value, drift, sigma**2, span in years, steps)``."""
        observed = z.dropna()
        t, y = observed.index.to_numpy(dtype=float), observed.to_numpy()
        span = t[-1] - t[0]
        drift = (y[-1] - y[0]) / span
        gaps = np.diff(t)
        residuals = np.diff(y) - drift * gaps
        sigma2 = np.sum(residuals**2 / gaps) / (len(gaps) - 1)
        return np.array([y[-1], drift, sigma2, span, len(gaps)])

    def forecast(
        self, z: pd.Series, regressors: tuple[int, ...], params: np.ndarray, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        last, drift, sigma2, span, steps = params
        h = np.arange(1, horizon + 1)
        widen = stats.t.ppf(0.95, steps - 1) / stats.norm.ppf(0.95)
        return last + drift * h, widen * np.sqrt(sigma2 * h * (1 + h / span))


@dataclass(frozen=True)
class StatsmodelsForecaster(SeriesForecaster):
    """Base of the statsmodels baselines: calibrated intervals by default.

    With ``calibrate=True`` (default) the interval is the calibrated one of
    :func:`calibration`; with ``calibrate=False`` it is statsmodels' own prediction interval,
    which treats the maximum-likelihood parameters as exact (too narrow on short series).
    ``estimate`` is statsmodels' maximum likelihood; ``forecast`` runs the model's filter with
    those parameters.
    """

    calibrate: bool = True

    def build(self, z: pd.Series, regressors: tuple[int, ...]) -> MLEModel:
        """The statsmodels model of ``z``."""
        raise NotImplementedError

    def estimate(self, z: pd.Series, regressors: tuple[int, ...]) -> np.ndarray:
        return self.build(z, regressors).fit(disp=False, return_params=True)

    def forecast(
        self, z: pd.Series, regressors: tuple[int, ...], params: np.ndarray, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        model = self.build(z, regressors)
        result = model.filter(np.array(params), cov_type="none").get_forecast(
            horizon, **self._future(z, regressors, horizon)
        )
        return result.predicted_mean, result.se_mean

    def _future(self, z: pd.Series, regressors: tuple[int, ...], horizon: int) -> dict:
        """Extra arguments of ``get_forecast`` (the regressors' future values)."""
        return {}


@dataclass(frozen=True)
class EtsForecaster(StatsmodelsForecaster):
    """Exponential smoothing with additive damped trend, ETS(A,Ad,N) (statsmodels ``ETSModel``).

    Needs consecutive years. Intervals: see :class:`StatsmodelsForecaster`.
    """

    name: ClassVar[str] = "ets"
    min_length: ClassVar[int] = 6
    allows_gaps: ClassVar[bool] = False

    def build(self, z: pd.Series, regressors: tuple[int, ...]) -> MLEModel:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        endog = pd.Series(z.to_numpy())  # a RangeIndex: ETSModel's prediction needs pandas
        return ETSModel(endog, error="add", trend="add", damped_trend=True)

    def forecast(
        self, z: pd.Series, regressors: tuple[int, ...], params: np.ndarray, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        result = self.build(z, regressors).smooth(np.array(params))
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
    """ARIMA(p,d,q), (1,1,0) by default, with a drift (a linear trend when d = 0) and
    export-control intervention regressors (statsmodels SARIMAX).

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
    order : tuple of int
        ``(p, d, q)``: autoregressive and moving-average orders from 0 to 3, differences 0 or
        1. The default alias shows a non-default order as ``sarimax(2,1,0)``.
    """

    shape: Literal["step", "ramp"] = "step"
    max_events: int = 2
    event_kinds: tuple[str, ...] = INTERVENTION_KINDS
    order: tuple[int, int, int] = (1, 1, 0)
    name: ClassVar[str] = "sarimax"
    alias_positional: ClassVar[tuple[str, ...]] = ("order",)

    def __post_init__(self) -> None:
        order = self.order
        whole = lambda v: isinstance(v, int | np.integer) and not isinstance(v, bool)  # noqa: E731
        if not (
            isinstance(order, tuple | list)
            and len(order) == 3
            and all(whole(v) for v in order)
            and 0 <= order[0] <= 3
            and order[1] in (0, 1)
            and 0 <= order[2] <= 3
        ):
            raise InputError(
                "order must be (p, d, q) with p and q from 0 to 3 and d 0 or 1, got "
                f"{reprlib.repr(order)}"
            )
        object.__setattr__(self, "order", tuple(int(v) for v in order))
        if self.shape not in ("step", "ramp"):
            raise InputError(f"shape must be 'step' or 'ramp', got {reprlib.repr(self.shape)}")
        if not whole(self.max_events) or self.max_events < 0:
            raise InputError(
                f"max_events must be a whole number >= 0, got {reprlib.repr(self.max_events)}"
            )
        if not (
            isinstance(self.event_kinds, tuple)
            and all(isinstance(k, str) for k in self.event_kinds)
        ):
            raise InputError(
                f"event_kinds must be a tuple of event kinds, got {reprlib.repr(self.event_kinds)}"
            )
        super().__post_init__()

    @property
    def min_length(self) -> int:  # type: ignore[override]
        """6 values for the default order; more for longer ones (p + d + q + 4)."""
        return max(6, sum(self.order) + 4)

    @property
    def _trend(self) -> str:
        return "t" if self.order[1] == 1 else "ct"

    def regressors(self, dataset: Dataset, z: pd.Series) -> tuple[int, ...]:
        events = dataset.events[dataset.events["kind"].isin(self.event_kinds)]
        years = sorted({int(date[:4]) for date in events["date"]})
        first, last = int(z.index[0]), int(z.index[-1])
        candidates = [year for year in years if first < year <= last]
        p, d, q = self.order
        observed = z.notna().to_numpy()
        if d == 1:
            rows = observed[1:] & observed[:-1]  # one-year differences that are observed
            design = np.ones((int(rows.sum()), 1))  # the drift
        else:
            rows = observed
            t = np.arange(len(z), dtype=float)[rows]
            design = np.column_stack([np.ones(int(rows.sum())), t])  # constant and trend
        room = int(rows.sum()) - (p + q + design.shape[1] + 1) - 1  # + trend, variance
        kept: list[int] = []
        for year in candidates:
            if len(kept) >= min(self.max_events, room):
                break
            column = intervention_matrix(z.index, (year,), self.shape)
            column = (np.diff(column, axis=0) if d == 1 else column)[rows]
            trial = np.hstack([design, column])
            if np.linalg.matrix_rank(trial) == trial.shape[1]:
                kept.append(year)
                design = trial
        return tuple(kept)

    def build(self, z: pd.Series, regressors: tuple[int, ...]) -> MLEModel:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        exog = intervention_matrix(z.index, regressors, self.shape) if regressors else None
        return SARIMAX(z.to_numpy(), exog=exog, order=self.order, trend=self._trend)

    def _future(self, z: pd.Series, regressors: tuple[int, ...], horizon: int) -> dict:
        if not regressors:
            return {}
        future = z.index[-1] + np.arange(1, horizon + 1)
        return {"exog": intervention_matrix(future, regressors, self.shape)}


@dataclass(frozen=True)
class UcmForecaster(StatsmodelsForecaster):
    """Local linear trend unobserved-components model (statsmodels UnobservedComponents).

    Intervals: see :class:`StatsmodelsForecaster`.
    """

    name: ClassVar[str] = "ucm"
    min_length: ClassVar[int] = 6

    def build(self, z: pd.Series, regressors: tuple[int, ...]) -> MLEModel:
        from statsmodels.tsa.statespace.structural import UnobservedComponents

        return UnobservedComponents(z.to_numpy(), level="local linear trend")


#: The baselines, in the order the registry lists them.
BASELINES: tuple[type[SeriesForecaster], ...] = (
    NaiveForecaster, EtsForecaster, SarimaxForecaster, UcmForecaster,
)  # fmt: skip
