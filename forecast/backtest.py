"""Rolling-origin backtests with an expanding window, for any forecaster.

For each series and origin year T, every model is fitted on ``load_dataset(until=T)`` (nothing
after T is read) and forecasts T+1..T+H; the forecasts are scored against what happened:

- ``log_error``: log of the median forecast minus log of the outcome (summaries: mean absolute);
- ``mase``: absolute error of the median, scaled by the mean absolute one-year change of the
  series up to T (Hyndman & Koehler's MASE: below 1 beats the in-sample naive forecast);
- ``coverage_50``, ``coverage_90``: share of outcomes inside the central 50 % and 90 % intervals;
- ``crps``: continuous ranked probability score of the predictive draws (``scoringrules``),
  in the series' units; ``crps_skill`` is ``1 - crps / crps_naive``;
- ``log_score``: minus the log predictive density at the outcome, natural scale (lower is
  better), estimated by a Gaussian kernel density on the draws (:func:`ensemble_log_score`),
  so it applies to any forecaster that gives draws.

:meth:`BacktestResult.scoring_table` gives the per-forecast scores in the tidy form of issue 12
(:data:`SCORING_COLUMNS`).

Comparisons are matched: at an origin where any requested model cannot forecast (too short, or
the fit fails), no model is scored and the reason is listed in ``skipped`` (unless
``fallback`` forecasts a too-short series with the naive baseline).

This module is the forecasters' orchestrator: it fits and predicts them
(:mod:`forecast.baselines`' contract), owns model choice (``auto``, :class:`AutoForecaster`,
registered here) and the fallback to naive (:func:`fit_with_fallback`), and requires the
aliases of the forecasters in one run to differ.
"""

from __future__ import annotations

import functools
import json
import reprlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from forecast import bounds
from forecast.baselines import (
    QUANTILE_COLUMNS,
    BaseForecaster,
    Forecaster,
    History,
    NaiveForecaster,
    Predictive,
    TooShortError,
    check_history,
    check_horizon,
)
from forecast.data import Dataset, load_dataset
from forecast.errors import InputError, ModelError
from forecast.registry import get_forecaster, register

if TYPE_CHECKING:
    from typing import Self

#: Models backtested when none are named (``naive`` is always added as the reference).
DEFAULT_MODELS: tuple[str, ...] = ("naive", "ets", "sarimax", "ucm")
#: Annual series with at least this many values are backtested when none are named.
MIN_POINTS = 8
REFERENCE = "naive"
#: Weight of the 90 % coverage miss in ``auto``'s score (:func:`penalised_crps`).
COVERAGE_PENALTY = 1.0
_SKIP_COLUMNS = ["series_id", "origin", "model", "reason"]
#: Columns of :meth:`BacktestResult.scoring_table`.
SCORING_COLUMNS: tuple[str, ...] = (
    "model", "origin", "target", "horizon", "period", "observed", *QUANTILE_COLUMNS,
    "covered50", "covered90", "crps", "log_score", "used", "note",
)  # fmt: skip


@dataclass(frozen=True)
class BacktestResult:
    """Scores of a backtest.

    Attributes
    ----------
    cases : pandas.DataFrame
        One row per series, model, origin and forecast year: ``series_id, model, used,
        origin, horizon, period, actual, mean, q05..q95, log_error, scaled_error, in50, in90,
        crps, log_score, note`` (``used`` is the model that produced the numbers, e.g. the
        one ``auto`` picked; ``note`` the prediction's note: why ``auto`` picked it, how the
        interval was calibrated).
    summary : pandas.DataFrame
        Per series and model: ``n, log_error, mase, coverage_50, coverage_90, crps,
        crps_skill, best`` (``best``: lowest mean CRPS for the series).
    overall : pandas.DataFrame
        Per model over all series: ``series, n, log_error, mase, coverage_50, coverage_90,
        crps_skill`` (one minus the geometric mean over series of CRPS relative to naive)
        and ``wins`` (series where the model has the lowest CRPS).
    skipped : pandas.DataFrame
        ``series_id, origin, model, reason`` for origins that were not scored.
    horizon : int
        The longest horizon scored.
    """

    cases: pd.DataFrame
    summary: pd.DataFrame
    overall: pd.DataFrame
    skipped: pd.DataFrame
    horizon: int

    def scoring_table(self) -> pd.DataFrame:
        """One row per scored forecast, columns :data:`SCORING_COLUMNS`.

        ``target`` is the series, ``observed`` the outcome, ``covered50`` / ``covered90``
        whether it fell inside the central 50 % / 90 % interval (``q25..q75`` /
        ``q05..q95``); ``crps`` and ``log_score`` as in the module docstring (both lower is
        better, in the target's units); ``used`` and ``note`` say which model produced the
        numbers and why (``auto``'s pick, how the interval was calibrated).
        """
        names = {"series_id": "target", "actual": "observed", "in50": "covered50",
                 "in90": "covered90"}  # fmt: skip
        return self.cases.rename(columns=names)[list(SCORING_COLUMNS)].reset_index(drop=True)

    def to_dict(self) -> dict:
        """JSON-ready dict: ``horizon``, ``overall``, ``summary``, ``skipped``, ``cases``."""

        def records(frame: pd.DataFrame) -> list[dict]:
            return json.loads(frame.reset_index().to_json(orient="records"))

        return {
            "horizon": self.horizon,
            "overall": records(self.overall),
            "summary": records(self.summary),
            "skipped": json.loads(self.skipped.to_json(orient="records")),
            "cases": json.loads(self.cases.to_json(orient="records")),
        }


def backtest(
    data: Dataset | str | Path | None = None,
    series: Iterable[str] | None = None,
    models: Sequence[str | Forecaster] = DEFAULT_MODELS,
    origins: Iterable[int] | None = None,
    horizon: int = 3,
    *,
    seed: int = 0,
    fallback: bool | Forecaster = False,
) -> BacktestResult:
    """Rolling-origin, expanding-window backtest.

    Parameters
    ----------
    data : Dataset, str, pathlib.Path or None
        The data directory (shipped data when None), or a loaded dataset: its directory is
        re-read with ``until=origin`` for each origin, never past the dataset's own cut-off.
    series : str or iterable of str, optional
        Series to test; default: every annual series with at least :data:`MIN_POINTS` values.
    models : str, Forecaster or a sequence of them
        Registry names (:data:`forecast.registry.MODELS`) or forecasters; their aliases must
        differ (two SARIMAX of different orders are ``sarimax`` and ``sarimax(2,1,0)``). The
        naive baseline is always included. Results are labelled by alias.
    origins : int or iterable of int, optional
        Origin years (within :data:`forecast.bounds.YEAR`, at most
        :data:`forecast.bounds.ORIGINS` of them); default per series: every year from the one
        where the series has enough values for all models up to the year before its last value.
    horizon : int
        Forecast years T+1..T+horizon are scored.
    seed : int
        Seed of the predictive draws of the models given by name.
    fallback : bool or Forecaster
        Where a series is too short for a model at an origin, forecast it with the naive
        baseline (True) or this forecaster instead of skipping the origin; ``used`` and
        ``note`` say so.

    Returns
    -------
    BacktestResult

    Raises
    ------
    DataError
        Bad data, or an unknown series id.
    UsageError
        An argument of the wrong type or value (the message names it): an unknown model name,
        two forecasters with one alias, a horizon, seed or origin outside
        :mod:`forecast.bounds`. (An :class:`forecast.InputError`, so also a ``ModelError``
        as before.)
    FitError
        A named series that is not annual.
    """
    horizon = check_horizon(horizon)
    bounds.SEED.check(seed)
    fallback = _check_fallback(fallback, seed)
    series = _names(series, "series")
    origins = _origins(origins)
    full = data if isinstance(data, Dataset) else load_dataset(data)
    forecasters = _forecasters(models, seed)
    need = max(f.min_length for f in forecasters.values())
    frames, skipped = [], []
    for series_id in series if series else backtestable_series(full):
        history = History.of(full, series_id)
        for origin in origins if origins is not None else default_origins(history.values, need):
            cases, skips = _evaluate(
                full, series_id, history.values, origin, horizon, forecasters, fallback
            )
            frames += cases
            skipped += skips
    cases = pd.concat(frames, ignore_index=True) if frames else _empty_cases()
    summary = _summary(cases)
    return BacktestResult(
        cases, summary, _overall(cases, summary), pd.DataFrame(skipped, columns=_SKIP_COLUMNS),
        horizon,
    )  # fmt: skip


def backtestable_series(dataset: Dataset, min_points: int = MIN_POINTS) -> list[str]:
    """Annual series with at least ``min_points`` observed values, in ``series.csv`` order."""
    annual = dataset.series.loc[dataset.series["frequency"] == "annual", "series_id"]
    counts = dataset.observations.dropna(subset=["value"])["series_id"].value_counts()
    return [sid for sid in annual if counts.get(sid, 0) >= min_points]


def default_origins(history: pd.Series, min_length: int) -> list[int]:
    """Observed years from the ``min_length``-th value up to the one before the last."""
    return [int(year) for year in history.index[min_length - 1 : -1]]


def penalised_crps(crps: pd.Series, coverage_90: pd.Series) -> pd.Series:
    """Mean CRPS times ``1 + COVERAGE_PENALTY * |coverage_90 - 0.9|`` (what ``auto`` ranks by).

    CRPS alone rewards a sharp forecast whose intervals miss; the penalty makes a candidate
    whose 90 % intervals held, say, 50 % of backtest outcomes pay 40 % on its CRPS (with the
    default :data:`COVERAGE_PENALTY` of 1).
    """
    return crps * (1 + COVERAGE_PENALTY * (coverage_90 - 0.9).abs())


def select_model(
    dataset: Dataset,
    series_id: str,
    horizon: int,
    candidates: Sequence[str | Forecaster],
    *,
    seed: int = 0,
) -> tuple[str, str]:
    """The candidate with the lowest :func:`penalised_crps` in a backtest on ``dataset``, and why.

    Returns
    -------
    (alias, reason) : tuple of str
        ``naive`` when the series is too short to backtest the candidates. The reason gives
        every candidate's mean CRPS and 90 % coverage.
    """
    result = backtest(dataset, [series_id], candidates, horizon=horizon, seed=seed)
    if result.summary.empty:
        chosen = [_forecaster(candidate, seed) for candidate in candidates]
        need = max(f.min_length for f in chosen) + 1
        return REFERENCE, (
            f"too few values to compare {', '.join(f.alias for f in chosen)} by backtest "
            f"(needs {need}); using naive"
        )
    table = result.summary.loc[series_id]
    penalised = penalised_crps(table["crps"], table["coverage_90"])
    best = str(penalised.idxmin())
    origins = result.cases["origin"]
    scores = ", ".join(
        f"{name} {penalised[name]:.3g} (CRPS {row.crps:.3g}, "
        f"90 % coverage {100 * row.coverage_90:.0f} %)"
        for name, row in table.iterrows()
    )
    return best, (
        f"auto picked {best}: lowest penalised CRPS (mean CRPS x (1 + {COVERAGE_PENALTY:g} x "
        f"|90 % coverage - 0.9|)) over {int(table.loc[best, 'n'])} backtest forecasts from "
        f"origins {origins.min()}-{origins.max()}: {scores}"
    )


def score(prediction: Predictive, actual: pd.Series, train: pd.Series, origin: int) -> pd.DataFrame:
    """Score a prediction against the outcomes it covers (see the module docstring).

    Parameters
    ----------
    prediction : Predictive
    actual : pandas.Series
        Outcomes indexed by year.
    train : pandas.Series
        The series up to the origin (for the MASE scale).
    origin : int
    """
    import scoringrules as sr  # imports in seconds (numba): only when scoring

    mask = np.isin(prediction.periods, actual.index)
    periods = prediction.periods[mask]
    y = actual.reindex(periods).to_numpy(dtype=float)
    q = prediction.quantiles[mask]
    median = q[:, QUANTILE_COLUMNS.index("q50")]
    frame = pd.DataFrame(
        {"series_id": prediction.series_id, "used": prediction.model, "origin": origin,
         "horizon": periods - origin, "period": periods, "actual": y,
         "mean": prediction.mean[mask]}
    )  # fmt: skip
    frame[list(QUANTILE_COLUMNS)] = q
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["log_error"] = np.log(median) - np.log(y)
    frame["scaled_error"] = np.abs(median - y) / mase_scale(train)
    frame["in50"] = (q[:, 1] <= y) & (y <= q[:, 3])
    frame["in90"] = (q[:, 0] <= y) & (y <= q[:, 4])
    frame["crps"] = np.asarray(sr.crps_ensemble(y, prediction.draws[:, mask].T))
    frame["log_score"] = ensemble_log_score(y, prediction.draws[:, mask].T)
    frame["note"] = prediction.note
    return frame


def ensemble_log_score(observed: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Minus the log of a Gaussian kernel density of ``draws`` at ``observed`` (lower is better).

    The estimate of ``scoringrules.logs_ensemble`` (Silverman's bandwidth
    ``1.06 min(sd, IQR / 1.34) M ** (-1/5)`` for ``M`` draws), computed with log-sum-exp, so an
    outcome far in the tail gets a large finite score instead of ``inf`` from a density that
    underflowed.

    Parameters
    ----------
    observed : numpy.ndarray
        Shape ``(n,)``.
    draws : numpy.ndarray
        Shape ``(n, M)``: the draws for each outcome.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``.
    """
    draws = np.asarray(draws, dtype=float)
    m = draws.shape[-1]
    q25, q75 = np.quantile(draws, [0.25, 0.75], axis=-1)
    bandwidth = 1.06 * np.minimum(draws.std(axis=-1, ddof=1), (q75 - q25) / 1.34) * m**-0.2
    z = (np.asarray(observed, dtype=float)[:, None] - draws) / bandwidth[:, None]
    log_density = special.logsumexp(-0.5 * z**2, axis=-1) - np.log(
        m * bandwidth * np.sqrt(2 * np.pi)
    )
    return -log_density


def mase_scale(train: pd.Series) -> float:
    """Mean absolute one-year change of the training values (NaN if none or zero)."""
    years, values = train.index.to_numpy(), train.to_numpy(dtype=float)
    steps = np.abs(np.diff(values))[np.diff(years) == 1]
    scale = steps.mean() if len(steps) else np.nan
    return float(scale) if scale > 0 else np.nan


def _forecasters(
    models: str | Forecaster | Sequence[str | Forecaster], seed: int
) -> dict[str, Forecaster]:
    """Alias -> forecaster, the naive reference first; aliases must differ."""
    if isinstance(models, str) or not isinstance(models, Iterable):
        models = [models]
    chosen = [_forecaster(model, seed) for model in models]
    if not chosen:
        raise InputError("models: no models to backtest")
    counts = Counter(f.alias for f in chosen)
    for alias, count in counts.items():
        if count > 1:
            raise InputError(
                f"models: alias {alias!r} is used by {count} forecasters; aliases must be "
                "unique in a run (give each forecaster a distinct alias=...)"
            )
    named = {f.alias: f for f in chosen}
    return {REFERENCE: named.get(REFERENCE) or get_forecaster(REFERENCE, seed=seed), **named}


def _forecaster(model: object, seed: int) -> Forecaster:
    """A registry name, a forecaster, or an old-style callable forecaster (wrapped)."""
    if isinstance(model, str):
        return get_forecaster(model, seed=seed)
    if isinstance(model, Forecaster):
        return model
    if callable(model) and isinstance(getattr(model, "name", None), str):
        if isinstance(getattr(model, "min_length", None), int):
            return CallableForecaster(model)
    raise InputError(
        f"models: {reprlib.repr(model)} is not a forecaster (see forecast.Forecaster) or a "
        "model name"
    )


def _names(values: object, label: str) -> list[str] | None:
    """None, one name, or an iterable of names, as a list (None stays None)."""
    if values is None:
        return None
    if isinstance(values, str):
        return [values]
    if not isinstance(values, Iterable) or isinstance(values, bytes | dict):
        raise InputError(f"{label} must be a name or a list of names, got {reprlib.repr(values)}")
    names = list(values)
    for name in names:
        if not isinstance(name, str):
            raise InputError(f"{label} must hold names (text), got {reprlib.repr(name)}")
    return names


def _origins(origins: object) -> list[int] | None:
    """None, one year, or an iterable of years within :data:`forecast.bounds.YEAR`."""
    if origins is None:
        return None
    if not isinstance(origins, Iterable) or isinstance(origins, str | bytes | dict):
        origins = [origins]
    years = []
    for year in origins:
        years.append(bounds.YEAR.check(year, "origins: a year"))
        if len(years) > bounds.ORIGINS.high:
            bounds.ORIGINS.check(len(years), "origins: the number of years")
    return years


def _check_fallback(fallback: object, seed: int) -> Forecaster | None:
    """False -> None; True -> the naive baseline; a forecaster stays itself."""
    if fallback is None:
        return None
    if isinstance(fallback, bool | np.bool_):
        return NaiveForecaster(seed=seed) if fallback else None
    if isinstance(fallback, Forecaster):
        return fallback
    raise InputError(f"fallback must be True, False or a forecaster, got {reprlib.repr(fallback)}")


def fit_with_fallback(
    forecaster: Forecaster, history: History, fallback: Forecaster | None
) -> tuple[Forecaster, str]:
    """``forecaster.fit(history)``, or ``fallback`` fitted where the series is too short.

    Returns
    -------
    (fitted, note) : tuple
        The fitted forecaster, and why the fallback was used ("" when it was not).

    Raises
    ------
    TooShortError
        If the series is too short and there is no fallback (or it is too short for that too).
    FitError
        If the fit fails.
    """
    try:
        return forecaster.fit(history), ""
    except TooShortError as err:
        if fallback is None:
            raise
        note = (
            f"{forecaster.alias} needs {err.min_length} values, the series has {err.n}: "
            f"fell back to {fallback.alias}"
        )
        return fallback.fit(history), note


def _evaluate(
    full: Dataset,
    series_id: str,
    history: pd.Series,
    origin: int,
    horizon: int,
    forecasters: dict[str, Forecaster],
    fallback: Forecaster | None = None,
) -> tuple[list[pd.DataFrame], list[tuple]]:
    """Cases of one series at one origin, or the reasons it was skipped."""
    actual = history[(history.index > origin) & (history.index <= origin + horizon)]
    if actual.empty:
        return [], [(series_id, origin, "*", f"no value in {origin + 1}-{origin + horizon}")]
    as_of = _as_of(full.data_dir, origin)
    train = History.of(as_of, series_id)
    if not len(train):
        return [], [(series_id, origin, "*", f"no value up to {origin}")]
    steps = horizon + origin - int(train.values.index[-1])
    predictions, failures = {}, []
    for alias, forecaster in forecasters.items():
        try:
            fitted, note = fit_with_fallback(forecaster, train, fallback)
            prediction = fitted.predictive(steps)
            predictions[alias] = replace(prediction, note=note) if note else prediction
        except ModelError as err:  # a FitError, or a horizon out of bounds after a gap
            failures.append((series_id, origin, alias, str(err)))
    if failures:
        return [], failures
    return [
        score(p, actual, train.values, origin).assign(model=alias)
        for alias, p in predictions.items()
    ], []


def _as_of(data_dir: Path, until: int) -> Dataset:
    """``load_dataset(data_dir, until=until)``, cached while the directory's files are unchanged."""
    directory = Path(data_dir).resolve()
    stamp = tuple(
        sorted(
            (str(path), path.stat().st_mtime_ns, path.stat().st_size)
            for path in directory.rglob("*")
            if path.is_file()
        )
    )
    return _load(directory, until, stamp)


@functools.lru_cache(maxsize=64)
def _load(directory: Path, until: int, stamp: tuple) -> Dataset:
    return load_dataset(directory, until=until)


def _empty_cases() -> pd.DataFrame:
    columns = ["series_id", "model", "used", "origin", "horizon", "period", "actual", "mean"]
    extra = ["log_error", "scaled_error", "in50", "in90", "crps", "log_score", "note"]
    return pd.DataFrame(columns=[*columns, *QUANTILE_COLUMNS, *extra])


_SCORES = ["n", "log_error", "mase", "coverage_50", "coverage_90", "crps"]


def _aggregate(cases: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean scores of ``cases`` per group (log error as mean absolute)."""
    grouped = cases.assign(abs_log_error=cases["log_error"].abs()).groupby(by, sort=False)
    return grouped.agg(
        n=("crps", "size"), log_error=("abs_log_error", "mean"), mase=("scaled_error", "mean"),
        coverage_50=("in50", "mean"), coverage_90=("in90", "mean"), crps=("crps", "mean"),
    )  # fmt: skip


def _summary(cases: pd.DataFrame) -> pd.DataFrame:
    if cases.empty:
        index = pd.MultiIndex.from_tuples([], names=["series_id", "model"])
        return pd.DataFrame(columns=[*_SCORES, "crps_skill", "best"], index=index)
    summary = _aggregate(cases, ["series_id", "model"])
    reference = summary["crps"].xs(REFERENCE, level="model")
    series_ids = summary.index.get_level_values("series_id")
    summary["crps_skill"] = 1 - summary["crps"] / reference.reindex(series_ids).to_numpy()
    summary["best"] = summary["crps"] == summary.groupby(level="series_id")["crps"].transform("min")
    return summary


def _overall(cases: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    columns = ["series", *_SCORES[:-1], "crps_skill", "wins"]
    if cases.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="model"))
    overall = _aggregate(cases, ["model"])
    overall["series"] = cases.groupby("model", sort=False)["series_id"].nunique()
    log_ratio = np.log1p(-summary["crps_skill"].astype(float))
    overall["crps_skill"] = 1 - np.exp(log_ratio.groupby(level="model", sort=False).mean())
    overall["wins"] = summary["best"].groupby(level="model", sort=False).sum().astype(int)
    return overall[columns]


def forecast_series(
    dataset: Dataset,
    series_id: str,
    horizon: int,
    model: str | Forecaster = "auto",
    *,
    fallback: bool | Forecaster = False,
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
        Years ahead, 1 to 50.
    model : str or Forecaster
        A name in :data:`forecast.registry.MODELS` (default ``auto``) or a forecaster.
    fallback : bool or Forecaster
        If the series is too short for ``model``, use the naive baseline (True) or this
        forecaster instead of raising.
    seed : int
        Seed of the predictive draws of a model given by name.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`forecast.baselines.FORECAST_COLUMNS`, one row per year; ``model`` is
        the alias of the model that produced the numbers, and ``attrs["note"]`` says why when
        it differs from ``model``.

    Raises
    ------
    UsageError
        An unknown model, a horizon or seed outside :mod:`forecast.bounds`, a ``dataset`` that
        is not a Dataset, a bad ``fallback``. (An :class:`forecast.InputError`, so also a
        ``ModelError`` as before.)
    DataError
        Unknown series.
    FitError
        Series not annual, too short (without ``fallback``), or a fit that fails.
    """
    bounds.SEED.check(seed)
    forecaster = _forecaster(model, seed)
    horizon = check_horizon(horizon)
    backup = _check_fallback(fallback, seed)
    fitted, note = fit_with_fallback(forecaster, History.of(dataset, series_id), backup)
    prediction = fitted.predictive(horizon)
    return (replace(prediction, note=note) if note else prediction).to_frame()


@dataclass(frozen=True)
class AutoForecaster(BaseForecaster):
    """Pick, per series, the candidate with the lowest CRPS, penalised for 90 % coverage away
    from nominal (:func:`penalised_crps`), in a backtest on the history's data.

    The backtest uses only the history's dataset (origins before its last value), so ``auto``
    can itself be backtested without leakage. The choice is made for the horizon asked for,
    so ``fit`` only keeps the history and :meth:`predictive` backtests the candidates at that
    horizon, then fits and predicts the one it picked. Its prediction's ``note`` says which
    model it picked and why (every candidate's score, CRPS and coverage), then the picked
    model's own note; a series too short to compare candidates gets the naive baseline, with
    the reason.

    Parameters
    ----------
    seed : int
        Seed of the candidates given by name.
    candidates : tuple of str or Forecaster
        Registry names or forecasters, with distinct aliases.
    alias : str, keyword-only
        See :class:`forecast.baselines.BaseForecaster`.
    """

    seed: int = 0
    candidates: tuple[str | Forecaster, ...] = ("naive", "ets", "sarimax", "ucm")
    name: ClassVar[str] = "auto"
    min_length: ClassVar[int] = NaiveForecaster.min_length

    def __post_init__(self) -> None:
        bounds.SEED.check(self.seed, "seed")
        if not isinstance(self.candidates, tuple) or not self.candidates:
            raise InputError(
                "candidates must be a non-empty tuple of model names or forecasters, got "
                f"{reprlib.repr(self.candidates)}"
            )
        _forecasters(self.candidates, self.seed)  # unknown names, repeated aliases
        super().__post_init__()

    def fit(self, history: History) -> Self:
        """Keep ``history`` (the choice needs the horizon: see :meth:`predictive`).

        Raises
        ------
        TooShortError
            Fewer than 3 values (too few even for the naive baseline).
        """
        history = check_history(history)
        if len(history) < self.min_length:
            raise TooShortError(history.series_id, self.alias, len(history), self.min_length)
        self._remember(history)
        return self

    def predictive(self, horizon: int) -> Predictive:
        """The picked candidate's forecast, with the reason it was picked in the note."""
        horizon = check_horizon(horizon)
        history = self._fitted()
        assert isinstance(history, History)
        choice, reason = select_model(
            history.dataset, history.series_id, horizon, self.candidates, seed=self.seed
        )
        chosen = _forecasters(self.candidates, self.seed)[choice]
        prediction = chosen.fit(history).predictive(horizon)
        return replace(prediction, note="; ".join(filter(None, [reason, prediction.note])))


@dataclass(frozen=True, eq=False)
class CallableForecaster(BaseForecaster):
    """An old-style forecaster, ``forecaster(dataset, series_id, horizon) -> Predictive`` with
    ``name`` and ``min_length`` attributes, under the current contract (its alias is its
    ``name``). :func:`backtest` wraps such objects itself."""

    function: object = None

    def __post_init__(self) -> None:
        if not self.alias:
            object.__setattr__(self, "alias", self.function.name)  # type: ignore[attr-defined]
        super().__post_init__()

    @property
    def min_length(self) -> int:  # type: ignore[override]
        return self.function.min_length  # type: ignore[attr-defined]

    def fit(self, history: History) -> Self:
        self._remember(check_history(history))
        return self

    def predictive(self, horizon: int) -> Predictive:
        history = self._fitted()
        assert isinstance(history, History)
        return self.function(history.dataset, history.series_id, horizon)  # type: ignore[operator]


register("auto", AutoForecaster)
